-- String literals: empty, quotes doubled or backslash-escaped, hex escapes, UTF-8.
SELECT 'hello', '', 'it''s', 'it\'s';
SELECT '\x41\x42', 'caf\xC3\xA9';
SELECT toTypeName('abc'), length('abc'), length(''), length('é'), lengthUTF8('é€');
