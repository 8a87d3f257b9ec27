-- Infinities and NaN from division, as literals, and the predicates on them.
SELECT 1 / 0, -1 / 0, 0 / 0;
SELECT inf, -inf, nan;
SELECT isNaN(0 / 0), isNaN(1.0), isInfinite(1 / 0), isInfinite(1.0), isFinite(1.0), isFinite(1 / 0);
SELECT 0.0 = -0.0;
