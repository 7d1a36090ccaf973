SELECT * FROM people WHERE name = 'O\'Brien; Jr'
