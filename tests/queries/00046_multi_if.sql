-- multiIf evaluates conditions in order.
SELECT number, multiIf(number = 0, 'zero', number = 1, 'one', number < 4, 'small', 'big') FROM numbers(6) ORDER BY number;
SELECT multiIf(0, 1, 0, 2, 3), multiIf(1, 'a', 'b');
