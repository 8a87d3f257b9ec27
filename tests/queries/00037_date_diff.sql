-- dateDiff counts unit boundaries crossed between two dates or times.
SELECT dateDiff('day', toDate('2024-01-01'), toDate('2024-03-01')), dateDiff('day', toDate('2024-03-01'), toDate('2024-01-01'));
SELECT dateDiff('month', toDate('2024-01-31'), toDate('2024-02-01')), dateDiff('year', toDate('2023-12-31'), toDate('2024-01-01'));
SELECT dateDiff('hour', toDateTime('2024-01-02 03:59:00', 'UTC'), toDateTime('2024-01-02 04:00:00', 'UTC'));
SELECT dateDiff('minute', toDateTime('2024-01-02 03:04:05', 'UTC'), toDateTime('2024-01-02 04:00:00', 'UTC'));
SELECT dateDiff('second', toDateTime('2024-01-02 03:04:05', 'UTC'), toDateTime('2024-01-02 03:05:00', 'UTC'));
SELECT dateDiff('week', toDate('2024-01-01'), toDate('2024-01-15'));
