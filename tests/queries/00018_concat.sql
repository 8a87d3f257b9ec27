-- concat and the || operator.
SELECT concat('a', 'b', 'c'), concat('a', ''), concat('', ''), concat('x', 'y');
SELECT 'foo' || 'bar', 'a' || 'b' || 'c';
SELECT concat(lower('A'), upper('b'), toString(1));
