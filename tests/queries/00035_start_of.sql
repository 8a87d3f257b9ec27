-- Rounding a DateTime or Date down to a unit.
SELECT toStartOfMinute(toDateTime('2024-01-02 03:04:05', 'UTC')), toStartOfHour(toDateTime('2024-01-02 03:04:05', 'UTC'));
SELECT toStartOfDay(toDateTime('2024-01-02 03:04:05', 'UTC')), toStartOfFifteenMinutes(toDateTime('2024-01-02 03:20:05', 'UTC'));
SELECT toStartOfMonth(toDate('2024-02-29')), toStartOfQuarter(toDate('2024-05-15')), toStartOfYear(toDate('2024-05-15'));
SELECT toMonday(toDate('2024-01-07')), toMonday(toDate('2024-01-08')), toMonday(toDate('2024-01-10'));
SELECT toStartOfMonth(toDateTime('2024-02-29 12:00:00', 'UTC')), toTypeName(toStartOfMonth(toDateTime('2024-02-29 12:00:00', 'UTC')));
