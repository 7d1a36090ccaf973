SELECT department, MAX(salary) AS top_salary
FROM employees
GROUP BY department
