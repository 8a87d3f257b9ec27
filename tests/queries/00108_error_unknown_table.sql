-- Code 60 UNKNOWN_TABLE and 81 UNKNOWN_DATABASE.
SELECT * FROM nosuchtable; -- { serverError 60 }
SELECT * FROM system.nosuchtable; -- { serverError 60 }
SELECT * FROM nosuchdb.t; -- { serverError 81 }
SELECT count() FROM system.one;
