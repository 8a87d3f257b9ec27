-- if() picks a branch; the result type is the supertype of both branches.
SELECT if(1, 'yes', 'no'), if(0, 'yes', 'no'), if(1 > 2, 1, 2);
SELECT number, if(number % 2 = 0, 'even', 'odd') FROM numbers(4) ORDER BY number;
SELECT toTypeName(if(number = 0, 1, -1)), toTypeName(if(number = 0, 1, 2.5)), toTypeName(if(number = 0, 'a', NULL)) FROM numbers(1);
SELECT if(number = 0, NULL, number) FROM numbers(2) ORDER BY number;
