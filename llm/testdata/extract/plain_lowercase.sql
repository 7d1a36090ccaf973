select name from users where id = 1
