-- Values inside arrays and tuples use quoted literal syntax in TabSeparated.
SELECT ['a', 'b\'c', 'd\te'], [toDate('2024-01-02')], [1.5, -2];
SELECT [NULL, 'x'], [[1, 2], []], (1, 'a', [2]);
SELECT [toDateTime('2024-01-02 03:04:05', 'UTC')];
