package dev.bitsweep.pipeline;

import dev.bitsweep.cluster.Launch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real all-MiniLM-L6-v2 (unpacked from Maven by the build into target/minilm; the build fails loudly if it cannot
 * be had) swept on real tokenized sentences, measured by agreement with the fp32 model.
 */
class MiniLmSweepTest {
  @TempDir Path work;

  @Test
  void int8AndPalettizedMiniLmStayCloseToTheOriginal() throws Exception {
    Path model = Path.of("target/minilm/all-minilm-l6-v2.onnx").toAbsolutePath();
    assertTrue(Files.exists(model), "the build must unpack all-MiniLM-L6-v2 into " + model);
    Path data = Fixtures.repositoryRoot().resolve("calibration-data/minilm-sentences/eval");
    Path spec = work.resolve("minilm.yaml");
    Files.writeString(spec, String.join("\n",
        "name: minilm-test",
        "model: " + model,
        "task: embedding",
        "eval_data: " + data,
        "batch_size: 16",
        "configs:",
        "  - id: int8",
        "    method: linear_quantize",
        "    mode: linear_symmetric",
        "    dtype: int8",
        "    granularity: per_channel",
        "  - id: kmeans6",
        "    method: palettize",
        "    mode: kmeans",
        "    nbits: 6",
        "    granularity: per_tensor",
        ""));
    SweepOutcome outcome = new SweepRunner(System.out).run(spec,
        Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
    Map<String, double[]> rows = new HashMap<>();
    try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SELECT config_id, status, layers_compressed, embedding_cosine,"
            + " output_snr_db, size_ratio FROM read_parquet('" + outcome.out().resolve("runs")
            + "/*/*.parquet', hive_partitioning = true)")) {
      while (result.next()) {
        assertEquals("ok", result.getString("status"));
        assertEquals(38, result.getInt("layers_compressed"), "24+6+6 MatMul weights and 2 embedding tables");
        rows.put(result.getString("config_id"), new double[] {result.getDouble("embedding_cosine"),
            result.getDouble("output_snr_db"), result.getDouble("size_ratio")});
      }
    }
    assertEquals(2, rows.size());
    // measured: int8 per channel 0.9996 cosine / 20.6 dB; k-means 6-bit per tensor about 0.997
    assertTrue(rows.get("int8")[0] > 0.999, "int8 cosine " + rows.get("int8")[0]);
    assertTrue(rows.get("int8")[1] > 15, "int8 output SNR " + rows.get("int8")[1]);
    assertTrue(rows.get("int8")[2] < 0.30, "int8 size " + rows.get("int8")[2]);
    assertTrue(rows.get("kmeans6")[0] > 0.99, "6-bit cosine " + rows.get("kmeans6")[0]);
    assertTrue(rows.get("kmeans6")[2] < 0.22, "6-bit size " + rows.get("kmeans6")[2]);
  }
}
