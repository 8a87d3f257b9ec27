-- FORMAT Null discards the result.
SELECT number FROM numbers(10) FORMAT Null;
SELECT 'after null';
