SELECT name FROM cities
