-- Float division by zero is inf/nan; integer division and modulo by zero are errors.
SELECT 1 / 0, 0 / 0, intDivOrZero(5, 0);
SELECT intDiv(1, 0); -- { serverError 153 }
SELECT 1 % 0; -- { serverError 153 }
SELECT intDiv(number, number) FROM numbers(1); -- { serverError 153 }
SELECT 'still alive';
