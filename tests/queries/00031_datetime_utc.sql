-- DateTime with an explicit UTC time zone: parsing, type, Unix timestamp both ways.
SELECT toDateTime('2024-01-02 03:04:05', 'UTC');
SELECT toTypeName(toDateTime('2024-01-02 03:04:05', 'UTC'));
SELECT toUnixTimestamp(toDateTime('2024-01-02 03:04:05', 'UTC'));
SELECT toDateTime(1704164645, 'UTC');
SELECT toString(toDateTime('2024-01-02 03:04:05', 'UTC') + 1, 'UTC'), toString(toDateTime('2024-01-02 23:59:59', 'UTC') + 1, 'UTC');
SELECT toString(toDateTime('2024-01-02 03:04:05', 'UTC')), toDate(toDateTime('2024-01-02 23:04:05', 'UTC'));
