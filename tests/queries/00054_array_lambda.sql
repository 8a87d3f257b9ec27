-- Higher-order array functions with lambda arguments.
SELECT arrayMap(x -> x * 2, [1, 2, 3]), arrayFilter(x -> x > 1, [1, 2, 3]), arrayMap(x -> concat(x, '!'), ['a', 'b']);
SELECT arrayMap((x, y) -> x + y, [1, 2], [10, 20]), arrayFilter((x, y) -> y, ['a', 'b', 'c'], [1, 0, 1]);
SELECT arrayCount(x -> x > 1, [1, 2, 3]), arrayExists(x -> x = 2, [1, 2]), arrayAll(x -> x > 0, [1, 2]), arrayAll(x -> x > 1, [1, 2]);
SELECT arraySort(x -> -x, [1, 3, 2]), arrayFirst(x -> x > 1, [1, 2, 3]), arraySum(x -> x * x, [1, 2, 3]);
SELECT arrayMap(x -> x + number, [1, 2]) FROM numbers(2) ORDER BY number;
