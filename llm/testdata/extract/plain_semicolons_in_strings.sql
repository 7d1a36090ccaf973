SELECT id FROM notes WHERE body LIKE '%;%' AND title = 'it''s; fine' AND tag = "x;y"
