-- The same wall-clock text in different zones is a different instant; toTimeZone keeps the instant.
SELECT toDateTime('2024-01-02 03:04:05', 'Asia/Tokyo');
SELECT toUnixTimestamp(toDateTime('2024-01-02 03:04:05', 'Asia/Tokyo')), toUnixTimestamp(toDateTime('2024-01-02 03:04:05', 'America/New_York'));
SELECT toTimeZone(toDateTime('2024-01-02 03:04:05', 'UTC'), 'Asia/Tokyo');
SELECT toTypeName(toTimeZone(toDateTime('2024-01-02 03:04:05', 'UTC'), 'Asia/Tokyo'));
SELECT toString(toDateTime('2024-01-02 03:04:05', 'UTC'), 'Asia/Kolkata');
SELECT toDate(toDateTime('2024-01-02 20:00:00', 'UTC'), 'Asia/Tokyo');
SELECT toDateTime('2024-07-01 12:00:00', 'Europe/Berlin'), toUnixTimestamp(toDateTime('2024-07-01 12:00:00', 'Europe/Berlin'));
