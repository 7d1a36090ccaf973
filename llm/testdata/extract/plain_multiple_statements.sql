SELECT * FROM users;
DROP TABLE users
