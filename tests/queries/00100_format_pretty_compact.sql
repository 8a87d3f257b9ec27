-- settings: output_format_pretty_color=0&output_format_pretty_row_numbers=0
-- PrettyCompact draws the grid without lines between rows; NULL prints as ᴺᵁᴸᴸ.
SELECT number * 1000 AS x, toString(number) AS s, toDate('2024-01-02') AS d FROM numbers(2) ORDER BY x FORMAT PrettyCompact;
SELECT toNullable(1) AS x, CAST(NULL AS Nullable(UInt8)) AS y FORMAT PrettyCompact;
SELECT 'a long string value' AS short, 1 AS long_column_name FORMAT PrettyCompact;
