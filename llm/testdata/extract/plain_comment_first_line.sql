SELECT name FROM customers ORDER BY revenue DESC LIMIT 5
