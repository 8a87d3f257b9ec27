-- Length in bytes and code points, case conversion, emptiness.
SELECT length('hello'), lengthUTF8('héllo'), length('héllo'), char_length('héllo');
SELECT lower('Hello World'), upper('Hello World'), lower('ÀÉ'), lowerUTF8('ÀÉ'), upperUTF8('àé');
SELECT empty(''), empty('a'), notEmpty(''), notEmpty(' ');
SELECT toTypeName(length('a'));
