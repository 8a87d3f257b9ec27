-- startsWith and endsWith.
SELECT startsWith('hello', 'he'), startsWith('hello', 'lo'), startsWith('hello', ''), startsWith('', 'a');
SELECT endsWith('hello', 'lo'), endsWith('hello', 'he'), endsWith('hello', ''), endsWith('hello', 'hello');
