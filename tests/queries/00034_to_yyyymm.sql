-- toYYYYMM, toYYYYMMDD and toYYYYMMDDhhmmss as numbers.
SELECT toYYYYMM(toDate('2024-01-02')), toYYYYMMDD(toDate('2024-01-02'));
SELECT toYYYYMM(toDateTime('2024-11-30 23:59:59', 'UTC')), toYYYYMMDDhhmmss(toDateTime('2024-01-02 03:04:05', 'UTC'));
SELECT toTypeName(toYYYYMM(toDate('2024-01-02'))), toTypeName(toYYYYMMDD(toDate('2024-01-02'))), toTypeName(toYYYYMMDDhhmmss(toDateTime('2024-01-02 03:04:05', 'UTC')));
