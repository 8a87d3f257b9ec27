-- trimLeft/trimRight/trimBoth remove spaces only; trim(... FROM ...) removes a set of characters.
-- hand-written: trimLeft/trimRight/trimBoth and trim(... FROM ...) are not in ClickHouse 18.16.
SELECT concat('[', trimLeft('  a b  '), ']'), concat('[', trimRight('  a b  '), ']'), concat('[', trimBoth('  a b  '), ']');
SELECT concat('[', trimBoth('\ta\t'), ']'), concat('[', trim('  x  '), ']'), concat('[', ltrim(' x '), ']'), concat('[', rtrim(' x '), ']');
SELECT trim(BOTH 'x' FROM 'xxaxx'), trim(LEADING 'x' FROM 'xxaxx'), trim(TRAILING 'x' FROM 'xxaxx');
SELECT trim(BOTH ' ()' FROM '( hi )');
