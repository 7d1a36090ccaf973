SELECT date_trunc('month', created_at) AS month, SUM(total)
   FROM orders
   GROUP BY 1
