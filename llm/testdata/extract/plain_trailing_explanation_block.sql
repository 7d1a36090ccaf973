SELECT a.title, COUNT(*) AS n
FROM albums a
JOIN tracks t ON t.album_id = a.id
GROUP BY a.title
