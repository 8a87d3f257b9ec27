-- TabSeparated output escapes tab, newline, backslash, quote, NUL, backspace, form feed and CR.
SELECT 'a\tb';
SELECT 'a\nb';
SELECT 'a\\b';
SELECT 'a\'b';
SELECT 'a\0b';
SELECT 'a\bb\fc\rd';
SELECT 'double " quote', 'slash / here';
SELECT 'ctrl\x01char', 'utf8 é € 😀';
SELECT 'a\tb' AS x, length(x);
