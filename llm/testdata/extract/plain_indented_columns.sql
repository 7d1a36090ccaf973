SELECT
  Customers.Name,
  Orders.Total
FROM Customers
JOIN Orders ON Orders.CustomerId = Customers.Id
