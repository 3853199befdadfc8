\set id random(1, 100000)
SELECT id, title, isbn, published_date, created_at, updated_at FROM books WHERE id = :id;
