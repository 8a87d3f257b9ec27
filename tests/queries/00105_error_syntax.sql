-- Code 62 SYNTAX_ERROR.
SELECT 1 2; -- { serverError 62 }
SELECT (; -- { serverError 62 }
SELEC 1; -- { serverError 62 }
SELECT 1 FROM; -- { serverError 62 }
SELECT 'unterminated; -- { serverError 62 }
SELECT 1 FROM numbers(3) WHERE; -- { serverError 62 }
SELECT 'ok';
