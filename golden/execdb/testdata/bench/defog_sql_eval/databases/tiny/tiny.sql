-- Synthetic database for the loader tests: a second schema, a comment and a
-- literal holding semicolons, quotes, NULLs and an empty string.
CREATE SCHEMA IF NOT EXISTS side;

CREATE TABLE public.item (
    id bigint NOT NULL,
    name text, -- free text; may hold ';'
    price numeric(10,2),
    added date
);

CREATE TABLE side.tag (
  item_id bigint,
  tag varchar(20)
);

INSERT INTO public.item (id, name, price, added) VALUES
(1, 'semi;colon', 1.50, '2024-01-02'),
(2, 'it''s', NULL, NULL),
(3, '', 0, '2023-12-31');

INSERT INTO side.tag VALUES (1, 'a'), (1, 'b'), (3, 'c');
