-- Result types of arithmetic: integer size promotion, signedness, division to Float64.
SELECT toTypeName(1 + 1), toTypeName(1 - 2), toTypeName(2 * 3), toTypeName(1 / 2);
SELECT toTypeName(intDiv(7, 2)), toTypeName(7 % 3), toTypeName(1 + 1.5);
SELECT toTypeName(toInt8(1) + toUInt8(1)), toTypeName(toUInt16(1) + toUInt8(1)), toTypeName(toUInt32(1) * toInt32(1));
SELECT toTypeName(toUInt32(1) + toUInt32(1)), toTypeName(toUInt64(1) * toUInt8(2)), toTypeName(toInt64(1) + toInt8(1));
SELECT toTypeName(toInt32(1) + toFloat32(1)), toTypeName(toFloat32(1) * toFloat32(1)), toTypeName(toUInt8(1) / toUInt8(1));
SELECT toTypeName(0), toTypeName(0 + 0), toTypeName(0 + 0 + 0), toTypeName(0 + 0 + 0 + 0);
