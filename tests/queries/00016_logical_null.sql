-- Three-valued logic: FALSE AND NULL is FALSE, TRUE OR NULL is TRUE, otherwise NULL wins.
-- hand-written: ClickHouse 18.16 returns NULL for NULL AND 0 and 0 for NULL OR 0; current docs define three-valued logic.
SELECT CAST(NULL AS Nullable(UInt8)) AND 0, CAST(NULL AS Nullable(UInt8)) AND 1;
SELECT CAST(NULL AS Nullable(UInt8)) OR 1, CAST(NULL AS Nullable(UInt8)) OR 0;
SELECT NOT CAST(NULL AS Nullable(UInt8));
