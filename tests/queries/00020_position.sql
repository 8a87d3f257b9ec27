-- position returns a 1-based byte offset, 0 when absent.
SELECT position('hello', 'l'), position('hello', 'lo'), position('hello', 'z'), position('hello', 'h');
SELECT position('hello', ''), positionCaseInsensitive('HELLO', 'll'), positionUTF8('héllo', 'l');
