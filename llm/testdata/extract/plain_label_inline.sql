SELECT name FROM users WHERE id = 3
