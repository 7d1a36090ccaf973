SELECT oi.product_id, SUM(oi.quantity) AS units
FROM order_items oi
JOIN orders o ON o.id = oi.order_id
WHERE o.ordered_at >= '2023-01-01' AND o.ordered_at < '2024-01-01'
GROUP BY oi.product_id
