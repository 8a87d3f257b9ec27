-- formatDateTime with an explicit time zone and unambiguous specifiers (not %M, whose meaning changed between versions).
SELECT formatDateTime(toDateTime('2024-01-02 03:04:05', 'UTC'), '%Y-%m-%d %H:%S', 'UTC');
SELECT formatDateTime(toDateTime('2024-01-02 03:04:05', 'UTC'), '%F %T', 'UTC');
SELECT formatDateTime(toDateTime('2024-01-02 03:04:05', 'UTC'), '%D|%y|%j|%u|%%', 'UTC');
SELECT formatDateTime(toDateTime('2024-12-31 23:59:58', 'UTC'), '%Y%m%d%H%S', 'UTC');
