SELECT id FROM products WHERE price > 100
