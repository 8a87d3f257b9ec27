-- The PostgreSQL-style x::T cast.
-- hand-written: the :: cast operator is not in ClickHouse 18.16.
SELECT 1::String, '42'::UInt8 + 1, toTypeName('1'::Int32);
SELECT (1 + 2)::String, toTypeName(1::String), 'x'::String;
