-- CSVWithNames adds a quoted header row.
SELECT number AS n, toString(number) AS s FROM numbers(2) ORDER BY n FORMAT CSVWithNames;
SELECT 1 AS `we"ird` FORMAT CSVWithNames;
