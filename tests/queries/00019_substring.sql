-- substring is 1-based and counts bytes; negative offsets count from the end.
SELECT substring('hello', 2, 3), substring('hello', 2), substring('hello', 1, 100), substring('hello', 6);
SELECT substring('hello', -3), substring('hello', -3, 2), substr('hello', 1, 1), mid('hello', 3, 2);
SELECT substringUTF8('héllo', 2, 3), substring('héllo', 2, 2);
