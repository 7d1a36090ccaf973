SELECT id FROM users WHERE country = 'FR'
