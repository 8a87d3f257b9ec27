-- Array subscripts are 1-based; negative subscripts count from the end; out of range gives the default value.
SELECT [10, 20, 30][1], [10, 20, 30][2], [10, 20, 30][3], [10, 20, 30][4];
SELECT [10, 20, 30][-1], [10, 20, 30][-3], [10, 20, 30][-4];
SELECT ['a', 'b'][2], concat('[', ['a', 'b'][3], ']'), arrayElement([1, 2], 2);
SELECT [[1, 2], [3]][1][2];
SELECT arr[number + 1] FROM (SELECT [5, 6, 7] AS arr, number FROM numbers(4)) ORDER BY number;
