-- Float literals are Float64 and print in the shortest form that reads back exactly.
SELECT 1.5, -2.25, 0.5, 100.0, 1e3, 2.5e2, 1e-3;
SELECT 0.1 + 0.2, 1 / 3, 2 / 3, 10 / 4;
SELECT toFloat32(0.1), toFloat32(1) / 3, toFloat64(0.1);
SELECT toTypeName(1.5), toTypeName(1e3), toTypeName(toFloat32(1.5));
