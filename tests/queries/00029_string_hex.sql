-- hex/unhex of strings and numbers.
SELECT hex('abc'), hex(''), hex(255), hex(toUInt16(256)), unhex('616263');
SELECT lower(hex('AZ')), hex(unhex('00FF'));
