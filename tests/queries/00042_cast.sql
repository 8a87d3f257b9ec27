-- CAST(x AS T) and CAST(x, 'T').
SELECT CAST(1 AS String), CAST('5' AS UInt8), CAST(1.7 AS Int32), CAST(-1.7 AS Int32), CAST('2024-01-02' AS Date);
SELECT CAST(1, 'String'), CAST('3.5', 'Float64'), CAST(toInt8(-1) AS Int64);
SELECT CAST(NULL AS Nullable(UInt8)), CAST(5 AS Nullable(UInt8)), CAST([1, 2] AS Array(String));
SELECT toTypeName(CAST(1 AS Nullable(String))), toTypeName(CAST(1, 'Int64')), toTypeName(CAST('x' AS String));
SELECT CAST(1 AS NoSuchType); -- { serverError 50 }
