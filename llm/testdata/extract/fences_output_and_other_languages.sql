SELECT region, SUM(amount) AS revenue FROM sales GROUP BY region
