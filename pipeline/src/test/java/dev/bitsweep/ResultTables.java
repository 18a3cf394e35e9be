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

  /** runs/ (ordered by config_id) and layers/ (by config_id, layer) of one sweep. */
  public record Sweep(List<Map<String, Object>> runs, List<Map<String, Object>> layers) {}

  /**
   * Asserts that a sweep has exactly these configs, each ok with {@code layersPerConfig} compressed layers, and
   * every layer row ok; returns both tables for the caller's own assertions.
   */
  public static Sweep assertAllOk(Path out, List<String> configIds, int layersPerConfig) throws Exception {
    List<Map<String, Object>> runs = query("SELECT * FROM " + table(out, "runs") + " ORDER BY config_id");
    assertEquals(configIds, runs.stream().map(r -> r.get("config_id")).toList());
    for (Map<String, Object> run : runs) {
      assertEquals("ok", run.get("status"), run.toString());
      assertEquals(layersPerConfig, ((Number) run.get("layers_compressed")).intValue(), run.toString());
    }
    List<Map<String, Object>> layers = query("SELECT * FROM " + table(out, "layers") + " ORDER BY config_id, layer");
    assertEquals(configIds.size() * layersPerConfig, layers.size(), "layer rows");
    for (Map<String, Object> layer : layers) {
      assertEquals("ok", layer.get("status"), layer.toString());
    }
    return new Sweep(runs, layers);
  }

  /** Writes a float32 [rows, cols] array as a .npy file (version 1.0, C order). */
  public static void writeNpy(Path file, float[] values, int rows, int cols) throws java.io.IOException {
    String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
    int total = 10 + header.length() + 1;
    header = header + " ".repeat((64 - total % 64) % 64) + "\n";
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.write(header.length() & 0xff);
    out.write(header.length() >> 8);
    out.write(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    java.nio.ByteBuffer data = java.nio.ByteBuffer.allocate(values.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      data.putFloat(v);
    }
    out.write(data.array());
    java.nio.file.Files.write(file, out.toByteArray());
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
