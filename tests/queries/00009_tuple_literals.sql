-- Tuple literals and the tuple() function.
SELECT (1, 'a'), ((1, 2), [3]), tuple(1, 2, 3);
SELECT toTypeName((1, 'a')), toTypeName((1, 'a', NULL)), toTypeName(tuple(1.5, [1]));
