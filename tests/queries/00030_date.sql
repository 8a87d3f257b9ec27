-- Date parsing, printing, type, and day arithmetic across month and leap-year boundaries.
SELECT toDate('2024-01-02'), toTypeName(toDate('2024-01-02'));
SELECT toDate('2024-01-31') + 1, toDate('2024-02-28') + 1, toDate('2024-02-28') + 2, toDate('2023-02-28') + 1;
SELECT toDate('2024-03-01') - 1, toDate('2024-01-01') - 1;
SELECT toString(toDate('2024-01-02')), toDate('2024-01-02') = toDate('2024-01-02');
SELECT toTypeName(toDate('2024-01-02') + 1);
