-- Basic arithmetic operators and their function forms.
SELECT 1 + 2, 10 - 3, 3 - 10, 6 * 7, 7 / 2;
SELECT plus(1, 2), minus(10, 3), multiply(6, 7), divide(7, 2), negate(5);
SELECT intDiv(7, 2), intDiv(6, 3), 7 % 3, modulo(7, 3), -7 % 3, 7 % -3;
SELECT intDivOrZero(1, 0), abs(-3), abs(3), -(-4);
SELECT 2 + 3 * 4, (2 + 3) * 4, 10 - 2 - 3, 2 * 3 / 4;
