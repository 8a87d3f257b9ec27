-- settings: output_format_pretty_row_numbers=0
-- The NoEscapes variants never use ANSI escape sequences.
SELECT number AS x, toString(number * 10) AS s FROM numbers(2) ORDER BY x FORMAT PrettyNoEscapes;
SELECT number AS x, toString(number * 10) AS s FROM numbers(2) ORDER BY x FORMAT PrettyCompactNoEscapes;
