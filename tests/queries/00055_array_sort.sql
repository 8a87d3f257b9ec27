-- Sorting and reversing arrays.
SELECT arraySort([3, 1, 2]), arrayReverseSort([3, 1, 2]), arraySort(['b', 'a', 'c']), arrayReverse([1, 2, 3]);
SELECT arraySort([2, NULL, 1]), arraySort([0.5, -1, 2]);
