-- splitByChar and splitByString keep empty pieces.
SELECT splitByChar(',', 'a,b,,c'), splitByChar(',', ''), splitByChar(',', 'abc');
SELECT splitByString(', ', 'a, b, c'), splitByString('ab', 'xabyabz');
SELECT arrayStringConcat(splitByChar(',', 'a,b,c'), '|'), arrayStringConcat(['x', 'y']);
SELECT length(splitByChar(' ', 'one two three'));
