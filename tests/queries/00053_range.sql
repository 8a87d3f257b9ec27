-- range(n) is [0, n).
SELECT range(5), range(0), range(1), length(range(100));
SELECT toTypeName(range(5)), arraySum(range(101));
