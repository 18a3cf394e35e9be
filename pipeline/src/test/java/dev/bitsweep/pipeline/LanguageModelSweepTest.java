package dev.bitsweep.pipeline;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.NextTokenReference;
import dev.bitsweep.TinyLm;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.data.NpyArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task language_model on the trained fortunes-lm fixture (DirectRunner, 3 configs x 37 MatMul layers, 32 held-out
 * sequences of 128 bytes): the runs table's perplexity, baseline_perplexity, token_agreement and kl_divergence, read
 * with DuckDB, equal an independent computation on the same logits (ONNX Runtime Java on the original model and on
 * each published package, in the sweep's batches, with a plain double log-softmax), and compression moves perplexity
 * as far as it should: int8 barely, k-means 2-bit a lot.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LanguageModelSweepTest {
  private static final Path LM = Fixtures.repositoryRoot().resolve("calibration-data/fortunes-lm");
  private static final int BATCH = 8;

  @TempDir static Path work;
  private Path out;
  private final Map<String, Map<String, Object>> rows = new HashMap<>();

  @BeforeAll
  void sweep() throws Exception {
    Path spec = work.resolve("lm.yaml");
    Files.writeString(spec, "name: fortunes-lm-task\nmodel: " + LM.resolve("model.onnx") + "\ntask: language_model\n"
        + "eval_data: " + LM.resolve("eval") + "\nbatch_size: " + BATCH + "\nconfigs:\n"
        + "  - {id: int8, method: linear_quantize, mode: linear_symmetric, dtype: int8, granularity: per_channel,"
        + " op_types: {Gather: null}}\n"
        + "  - {id: kmeans4, method: palettize, mode: kmeans, nbits: 4, granularity: per_tensor,"
        + " op_types: {Gather: null}}\n"
        + "  - {id: kmeans2, method: palettize, mode: kmeans, nbits: 2, granularity: per_tensor,"
        + " op_types: {Gather: null}}\n");
    out = work.resolve("out");
    new SweepRunner(System.out).run(spec, Launch.embedded().withRunner("direct").withOut(out));
    for (Map<String, Object> row : query("SELECT * FROM " + table(out, "runs"))) {
      rows.put((String) row.get("config_id"), row);
    }
  }

  private static long[][] evalTokens() {
    NpyArray ids = NpyArray.read(LM.resolve("eval/input_ids.npy"), "int64");
    int n = ids.samples();
    int t = ids.sampleSize();
    long[] flat = ids.longs(0, n);
    long[][] tokens = new long[n][t];
    for (int s = 0; s < n; s++) {
      System.arraycopy(flat, s * t, tokens[s], 0, t);
    }
    return tokens;
  }

  private static double number(Map<String, Object> row, String column) {
    return ((Number) row.get(column)).doubleValue();
  }

  @Test
  void languageModelColumnsEqualAnIndependentComputationOnThePackagesLogits() throws Exception {
    assertEquals(3, rows.size(), rows.keySet().toString());
    long[][] tokens = evalTokens();
    float[][][] original = NextTokenReference.logits(LM.resolve("model.onnx"), "input_ids", "logits", tokens, BATCH);
    for (Map.Entry<String, Map<String, Object>> entry : rows.entrySet()) {
      Map<String, Object> row = entry.getValue();
      assertEquals("ok", row.get("status"), row.toString());
      assertEquals("language_model", row.get("task"));
      assertEquals("perplexity", row.get("headline_metric"));
      assertEquals(37, ((Number) row.get("layers_compressed")).intValue());
      assertEquals(32, ((Number) row.get("eval_samples")).intValue());
      float[][][] packaged = NextTokenReference.logits(out.resolve((String) row.get("package_path")), "input_ids",
          "logits", tokens, BATCH);
      double[] expected = NextTokenReference.statistics(original, packaged, tokens);
      String id = entry.getKey();
      assertEquals(expected[0], number(row, "perplexity"), 1e-12 * expected[0], id + " perplexity");
      assertEquals(expected[1], number(row, "baseline_perplexity"), 1e-12 * expected[1], id + " baseline");
      assertEquals(expected[2], number(row, "token_agreement"), 0.0, id + " token agreement");
      assertEquals(expected[3], number(row, "kl_divergence"), 1e-9 * expected[3], id + " KL");
      // the fp32 model's perplexity as the fixture's README gives it (torch: 11.09917)
      assertEquals(11.0992, number(row, "baseline_perplexity"), 5e-5, id);
    }
  }

  @Test
  void theReportPlotsPerplexity() throws Exception {
    List<Path> pages;
    try (var files = Files.list(out.resolve("reports"))) {
      pages = files.filter(f -> f.toString().endsWith(".html")).toList();
    }
    assertEquals(1, pages.size(), pages.toString());
    String page = Files.readString(pages.get(0));
    assertTrue(page.contains("perplexity (lower is better)"), "the report's headline metric is perplexity");
    String markdown = Files.readString(out.resolve("reports").resolve(pages.get(0).getFileName().toString()
        .replace(".html", ".md")));
    assertTrue(markdown.contains(String.format(java.util.Locale.ROOT, "- baseline perplexity (original model): %.4f",
        number(rows.get("int8"), "baseline_perplexity"))), markdown);
    assertTrue(markdown.contains("      ppl | agreement |"), markdown);
    assertTrue(markdown.contains(String.format(java.util.Locale.ROOT, "%.4f | %9.4f |",
        number(rows.get("kmeans2"), "perplexity"), number(rows.get("kmeans2"), "token_agreement"))), markdown);
  }

  /**
   * A model with an input named attention_mask: it is found by name, the token input is the only other int64
   * input, and only the positions the mask keeps at t and t + 1 count, in the runs table as in the reference.
   */
  @Test
  void theAttentionMaskInputIsFoundAndRespected(@TempDir Path dir) throws Exception {
    Path model = TinyLm.model(dir.resolve("masked.onnx"), false, "ids", "attention_mask");
    long[] ids = new long[8 * TinyLm.POSITIONS];
    long[] mask = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (i * 7 + i / 5) % TinyLm.VOCABULARY;
      mask[i] = i % TinyLm.POSITIONS < TinyLm.POSITIONS - i / TinyLm.POSITIONS % 4 ? 1 : 0; // right padding 0..3
    }
    TinyLm.writeInt64(dir.resolve("eval/ids.npy"), ids);
    TinyLm.writeInt64(dir.resolve("eval/attention_mask.npy"), mask);
    Path spec = dir.resolve("masked.yaml");
    Files.writeString(spec, "name: masked-lm\nmodel: " + model + "\ntask: language_model\neval_data: "
        + dir.resolve("eval") + "\nbatch_size: 3\nweight_threshold: 0\nconfigs:\n"
        + "  - {id: k2, method: palettize, mode: kmeans, nbits: 2, granularity: per_tensor}\n");
    Path maskedOut = dir.resolve("out");
    new SweepRunner(System.out).run(spec, Launch.embedded().withRunner("direct").withOut(maskedOut));
    Map<String, Object> row = query("SELECT * FROM " + table(maskedOut, "runs")).get(0);
    assertEquals("ok", row.get("status"), row.toString());
    long[][] tokens = new long[8][TinyLm.POSITIONS];
    long[][] masks = new long[8][TinyLm.POSITIONS];
    for (int i = 0; i < ids.length; i++) {
      tokens[i / TinyLm.POSITIONS][i % TinyLm.POSITIONS] = ids[i];
      masks[i / TinyLm.POSITIONS][i % TinyLm.POSITIONS] = mask[i];
    }
    Map<String, long[][]> feeds = Map.of("ids", tokens, "attention_mask", masks);
    float[][][] original = NextTokenReference.logits(model, feeds, "logits", 3);
    float[][][] packaged = NextTokenReference.logits(maskedOut.resolve((String) row.get("package_path")), feeds,
        "logits", 3);
    double[] expected = NextTokenReference.statistics(original, packaged, tokens, masks);
    double[] unmasked = NextTokenReference.statistics(original, packaged, tokens);
    assertTrue(Math.abs(expected[0] - unmasked[0]) > 1e-3, "the mask changes which positions count");
    assertEquals(expected[0], number(row, "perplexity"), 1e-12 * expected[0]);
    assertEquals(expected[1], number(row, "baseline_perplexity"), 1e-12 * expected[1]);
    assertEquals(expected[2], number(row, "token_agreement"), 0.0);
    assertEquals(expected[3], number(row, "kl_divergence"), 1e-9 * expected[3]);
  }

  @Test
  void compressionMovesPerplexityVisibly() {
    double baseline = number(rows.get("int8"), "baseline_perplexity");
    double int8 = number(rows.get("int8"), "perplexity");
    double kmeans4 = number(rows.get("kmeans4"), "perplexity");
    double kmeans2 = number(rows.get("kmeans2"), "perplexity");
    System.out.printf("fortunes-lm perplexity: fp32 %.4f, int8 %.4f, k-means 4-bit %.4f, k-means 2-bit %.4f%n",
        baseline, int8, kmeans4, kmeans2);
    assertTrue(Math.abs(int8 - baseline) < 0.01, "int8 per channel keeps perplexity: " + int8 + " vs " + baseline);
    assertTrue(kmeans4 > baseline + 0.02, "k-means 4-bit raises it: " + kmeans4);
    assertTrue(kmeans2 > kmeans4 + 0.5, "k-means 2-bit raises it far more: " + kmeans2);
    assertTrue(number(rows.get("kmeans2"), "kl_divergence") > number(rows.get("kmeans4"), "kl_divergence"));
    assertTrue(number(rows.get("kmeans2"), "token_agreement") < number(rows.get("kmeans4"), "token_agreement"));
    for (Map<String, Object> row : rows.values()) {
      assertEquals("perplexity", row.get("headline_metric"));
      for (String column : List.of("perplexity", "baseline_perplexity", "token_agreement", "kl_divergence")) {
        assertTrue(row.get(column) instanceof Double, column + " in " + row);
      }
    }
  }
}
