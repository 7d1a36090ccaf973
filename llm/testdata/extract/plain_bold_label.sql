SELECT COUNT(DISTINCT customer_id) FROM orders
