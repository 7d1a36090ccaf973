SELECT COUNT(*) FROM orders WHERE status = 'shipped'
