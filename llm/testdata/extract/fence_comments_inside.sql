-- revenue per region, gross
SELECT region, /* before refunds */ SUM(amount) AS revenue -- in USD
FROM sales
WHERE note <> 'test; ignore'
GROUP BY region
