SELECT $q$semi;colon$q$ AS s, amount FROM payments WHERE id = $1
