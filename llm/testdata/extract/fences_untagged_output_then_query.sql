SELECT name, COUNT(*) AS total FROM visits GROUP BY name
