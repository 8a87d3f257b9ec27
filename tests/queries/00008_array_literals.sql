-- Array literals, their element supertype, and how they print.
SELECT [1, 2, 3], [], ['a', 'b'], [1, -1], [1, 2.5];
SELECT [[1], [2, 3]], [1, NULL], ['it''s'];
SELECT toTypeName([1, 2, 3]), toTypeName([]), toTypeName(['a']);
SELECT toTypeName([1, -1]), toTypeName([1, 2.5]), toTypeName([[1], [2, 3]]), toTypeName([1, NULL]);
