-- toTypeName of explicitly typed values.
SELECT toTypeName(toUInt8(1)), toTypeName(toUInt16(1)), toTypeName(toUInt32(1)), toTypeName(toUInt64(1));
SELECT toTypeName(toInt8(1)), toTypeName(toInt16(1)), toTypeName(toInt32(1)), toTypeName(toInt64(1));
SELECT toTypeName(toFloat32(1)), toTypeName(toFloat64(1)), toTypeName('s'), toTypeName(toDate('2024-01-02'));
SELECT toTypeName(toNullable(1)), toTypeName(toNullable('a')), toTypeName([toNullable(1)]), toTypeName(toFixedString('ab', 2));
