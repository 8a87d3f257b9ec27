-- Extracting calendar fields from a Date and a DateTime.
SELECT toYear(toDate('2024-01-02')), toMonth(toDate('2024-01-02')), toDayOfMonth(toDate('2024-01-02'));
SELECT toQuarter(toDate('2024-05-01')), toDayOfYear(toDate('2024-12-31')), toDayOfWeek(toDate('2024-01-02'));
SELECT toHour(toDateTime('2024-01-02 03:04:05', 'UTC')), toMinute(toDateTime('2024-01-02 03:04:05', 'UTC')), toSecond(toDateTime('2024-01-02 03:04:05', 'UTC'));
SELECT toYear(toDateTime('2024-12-31 23:59:59', 'UTC')), toMonth(toDateTime('2024-12-31 23:59:59', 'UTC'));
SELECT toTypeName(toYear(toDate('2024-01-02'))), toTypeName(toMonth(toDate('2024-01-02'))), toTypeName(toDayOfWeek(toDate('2024-01-02')));
