-- toDayOfWeek is 1 for Monday through 7 for Sunday.
SELECT toDate('2024-01-01') + number AS d, toDayOfWeek(d) FROM numbers(7) ORDER BY d;
