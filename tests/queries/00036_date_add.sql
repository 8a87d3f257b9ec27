-- add*/subtract* functions and INTERVAL arithmetic; month arithmetic clamps to the month end.
SELECT addDays(toDate('2024-01-30'), 5), subtractDays(toDate('2024-03-01'), 1), addWeeks(toDate('2024-01-01'), 2);
SELECT addMonths(toDate('2024-01-31'), 1), addMonths(toDate('2023-01-31'), 1), addYears(toDate('2024-02-29'), 1);
SELECT addHours(toDateTime('2024-01-02 23:04:05', 'UTC'), 2), addMinutes(toDateTime('2024-01-02 03:04:05', 'UTC'), 60);
SELECT addSeconds(toDateTime('2024-01-02 03:04:05', 'UTC'), -5), subtractHours(toDateTime('2024-01-02 03:04:05', 'UTC'), 4);
SELECT toDate('2024-01-31') + INTERVAL 1 DAY, toDateTime('2024-01-02 03:04:05', 'UTC') + INTERVAL 2 HOUR;
SELECT toDate('2024-03-31') - INTERVAL 1 MONTH;
