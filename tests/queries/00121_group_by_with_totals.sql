-- settings: output_format_write_statistics=0&output_format_pretty_color=0
-- GROUP BY … WITH TOTALS: the totals row after the data, per output format.
-- hand-written: bytes from ClickHouse's current row formats (writeBeforeTotals/writeTotals); no ClickHouse to record from
SELECT number % 2 AS k, count(), sum(number) AS s FROM numbers(5) GROUP BY k WITH TOTALS ORDER BY k FORMAT TSV;
SELECT number % 2 AS k, count(), sum(number) AS s FROM numbers(5) GROUP BY k WITH TOTALS ORDER BY k FORMAT TSVWithNames;
SELECT number % 2 AS k, count(), sum(number) AS s FROM numbers(5) GROUP BY k WITH TOTALS ORDER BY k FORMAT CSV;
SELECT number % 2 AS k, count(), sum(number) AS s FROM numbers(5) GROUP BY k WITH TOTALS ORDER BY k FORMAT JSON;
SELECT number % 2 AS k, count(), sum(number) AS s FROM numbers(5) GROUP BY k WITH TOTALS ORDER BY k FORMAT JSONCompact;
SELECT number % 2 AS k, count(), sum(number) AS s FROM numbers(5) GROUP BY k WITH TOTALS ORDER BY k FORMAT PrettyCompact;
SELECT number % 2 AS k, count(), sum(number) AS s FROM numbers(5) GROUP BY k WITH TOTALS ORDER BY k FORMAT JSONEachRow;
SELECT number % 2 AS k, count(), sum(number) AS s FROM numbers(5) GROUP BY k WITH TOTALS ORDER BY k FORMAT JSONCompactEachRowWithNames;
