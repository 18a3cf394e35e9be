package dev.bitsweep;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Reads published results with DuckDB (an independent Parquet reader) and compares two sweeps' tables. */
public final class ResultTables {
  public static final Set<String> TIMING_COLUMNS = Set.of("compress_seconds", "package_seconds", "eval_seconds", "eval_session_seconds", "eval_run_seconds", "seconds");

  private ResultTables() {}

  public static List<Map<String, Object>> query(String sql) throws Exception {
    try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      List<Map<String, Object>> result = new ArrayList<>();
      ResultSetMetaData meta = rows.getMetaData();
      while (rows.next()) {
        Map<String, Object> row = new TreeMap<>();
        for (int c = 1; c <= meta.getColumnCount(); c++) {
          row.put(meta.getColumnName(c), rows.getObject(c));
        }
        result.add(row);
      }
      return result;
    }
  }

  public static String table(Path out, String table) {
    return "read_parquet('" + out.resolve(table) + "/*/*.parquet', hive_partitioning = true)";
  }

  /** runs/ and layers/ of two output directories hold the same rows, timing columns aside. */
  public static void assertSameResults(Path expectedOut, Path actualOut) throws Exception {
    for (String t : List.of("runs", "layers")) {
      List<Map<String, Object>> expected = query("SELECT * FROM " + table(expectedOut, t) + " ORDER BY ALL");
      List<Map<String, Object>> actual = query("SELECT * FROM " + table(actualOut, t) + " ORDER BY ALL");
      expected.forEach(row -> row.keySet().removeAll(TIMING_COLUMNS));
      actual.forEach(row -> row.keySet().removeAll(TIMING_COLUMNS));
      assertEquals(expected.size(), actual.size(), t + " row count");
      for (int i = 0; i < expected.size(); i++) {
        Map<String, Object> e = new java.util.TreeMap<>(expected.get(i));
        Map<String, Object> a = new java.util.TreeMap<>(actual.get(i));
        // output_error comes from BLAS (Hessians); OpenBLAS picks its kernel per CPU and environment
        // (OPENBLAS_CORETYPE), which may change the last bit of a sum: equal to 1e-12 relative, everything else exact.
        Object eError = e.remove("output_error");
        Object aError = a.remove("output_error");
        assertEquals(e, a, t + " row " + i);
        if (eError == null || aError == null) {
          assertEquals(eError, aError, t + " row " + i + " output_error");
        } else {
          double x = ((Number) eError).doubleValue();
          double y = ((Number) aError).doubleValue();
          assertEquals(x, y, Math.abs(x) * 1e-12, t + " row " + i + " output_error");
        }
      }
    }
  }
}
