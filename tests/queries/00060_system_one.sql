-- system.one has one row with one UInt8 column named dummy.
SELECT * FROM system.one;
SELECT dummy, toTypeName(dummy) FROM system.one;
SELECT 1 FROM system.one;
SELECT count() FROM system.one;
