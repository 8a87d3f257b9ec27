-- String and float to integer conversion: parsing, truncation toward zero, OrZero/OrNull variants.
SELECT toInt32('42'), toInt32('-42'), toUInt64('18446744073709551615'), toInt8('-128'), toUInt8('255');
SELECT toInt32(-3.9), toInt32(3.9), toUInt8(1.9), toInt64(1e10);
SELECT toFloat64('1.5'), toFloat64('1e3'), toFloat32('0.25'), toFloat64(3);
SELECT toInt32OrZero('abc'), toInt32OrNull('abc'), toInt32OrZero('12'), toFloat64OrZero('x'), toFloat64OrNull('2.5');
SELECT toTypeName(toInt32('1')), toTypeName(toInt32OrNull('1'));
SELECT toInt32('abc'); -- { serverError 6 }
