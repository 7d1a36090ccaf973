SELECT name FROM employees WHERE hired_at >= now() - interval '1 year'
