-- NULL prints as \N in TabSeparated; arithmetic and comparison with NULL give NULL.
SELECT NULL;
SELECT toTypeName(NULL);
SELECT NULL + 1, 1 - NULL, NULL * NULL;
SELECT 1 = NULL, NULL = NULL, NULL != 1;
SELECT NULL IS NULL, 1 IS NULL, NULL IS NOT NULL, 1 IS NOT NULL;
