-- settings: output_format_pretty_color=0&output_format_pretty_row_numbers=0
-- Pretty draws a full grid; numbers are right-aligned, strings left-aligned.
SELECT number * 1000 AS x, toString(number) AS s FROM numbers(3) ORDER BY x FORMAT Pretty;
SELECT 1 AS a FORMAT Pretty;
SELECT 'é€' AS u, 'ab' AS ab FORMAT Pretty;
