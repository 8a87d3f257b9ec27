-- toString of numbers, dates, arrays and tuples.
SELECT toString(123), toString(-1.5), toString(0.1 + 0.2), toString(toUInt64(18446744073709551615));
SELECT toString(toDate('2024-01-02')), toString([1, 2]), toString(['a']), toString((1, 'a'));
SELECT toTypeName(toString(1)), length(toString(12345));
