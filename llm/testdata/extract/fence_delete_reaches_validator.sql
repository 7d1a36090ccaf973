DELETE FROM users WHERE last_login < '2020-01-01'
