-- Tuple elements by 1-based index, with .N or tupleElement.
SELECT (1, 'a').1, (1, 'a').2, tupleElement((1, 'a'), 2), tuple('x', 2).2;
SELECT t.1, t.2 FROM (SELECT (10, 'ten') AS t);
SELECT tupleElement(((1, 2), 3), 1);
