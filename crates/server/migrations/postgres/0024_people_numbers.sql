-- Mirrors sqlite/0024_people_numbers.sql.
-- Every customer's record has a number, like a ticket's, that agents say and search by
-- (`#1042`); the id stays the record's key. Those there already are numbered in the order
-- they were made; a new one takes the next (customers/mod.rs).
ALTER TABLE people ADD COLUMN number BIGINT;
UPDATE people SET number = n.rn
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS rn FROM people) n
WHERE n.id = people.id;
CREATE UNIQUE INDEX people_number ON people (number);
