SELECT COUNT(*) FROM orders WHERE status = 'open'
