-- Basic array functions.
SELECT length([1, 2, 3]), length([]), empty([]), empty([1]), notEmpty([1]), notEmpty([]);
SELECT has([1, 2, 3], 2), has([1, 2, 3], 5), has(['a', 'b'], 'b'), has([1, NULL], NULL);
SELECT indexOf([10, 20, 30], 20), indexOf([10, 20, 30], 40), countEqual([1, 2, 1], 1);
SELECT arrayConcat([1], [2, 3], []), arraySum([1, 2, 3]), arraySum([0.5, 0.25]);
SELECT arrayEnumerate(['a', 'b', 'c']), arrayUniq([1, 1, 2]), arrayDistinct([1, 1, 2, 1]);
SELECT arrayStringConcat(['a', 'b', 'c'], ','), arrayPushBack([1], 2), arrayPushFront([1], 0), arraySlice([1, 2, 3, 4], 2, 2);
