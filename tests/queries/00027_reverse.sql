-- reverse works on bytes of a string and on arrays; reverseUTF8 on code points.
SELECT reverse('abc'), reverse(''), reverse('a'), reverseUTF8('héllo');
SELECT reverse([1, 2, 3]), reverse(['a', 'b']);
