-- replaceAll/replaceOne replace literal substrings; the Regexp variants take RE2 patterns.
SELECT replaceAll('aXbXc', 'X', '-'), replaceOne('aXbXc', 'X', '-'), replace('aXbXc', 'X', '');
SELECT replaceAll('hello', 'l', 'LL'), replaceAll('hello', 'z', 'y');
SELECT replaceRegexpAll('abc123def45', '[0-9]+', '#'), replaceRegexpOne('abc123def45', '[0-9]+', '#');
SELECT replaceRegexpOne('2024-01-02', '(\\d+)-(\\d+)-(\\d+)', '\\3/\\2/\\1');
