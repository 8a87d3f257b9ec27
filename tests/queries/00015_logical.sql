-- AND, OR, NOT, xor and their function forms; any non-zero number is true.
SELECT 1 AND 1, 1 AND 0, 0 AND 0, 1 OR 0, 0 OR 0, NOT 1, NOT 0;
SELECT and(1, 1, 1), and(1, 0, 1), or(0, 0, 1), or(0, 0, 0), not(5);
SELECT xor(1, 0), xor(1, 1), xor(0, 0), xor(1, 1, 1);
SELECT 2 AND 3, 0.5 OR 0, NOT 2, -1 AND 1;
SELECT 1 OR 0 AND 0, (1 OR 0) AND 0, NOT 0 AND 0, NOT (0 AND 0);
SELECT toTypeName(1 AND 1), toTypeName(NOT 1);
