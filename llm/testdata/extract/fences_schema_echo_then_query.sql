SELECT country, AVG(age) FROM singer GROUP BY country
