package dev.bitsweep.pipeline;

import dev.bitsweep.cluster.Launch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.DemoSweep;
import dev.bitsweep.Fixtures;
import dev.bitsweep.ResultTables;
import dev.bitsweep.data.NpyArray;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's demo sweep, run on the DirectRunner and on embedded Flink, read back with DuckDB (an independent
 * Parquet reader) and checked against ONNX Runtime running the packages itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DigitsSweepTest {
  private static final Path SPEC = Fixtures.digits().resolve("sweep.yaml");
  private static final List<String> CONFIG_IDS = List.of(
      "linear_quantize-linear_symmetric-int4-per_block-b128",
      "linear_quantize-linear_symmetric-int4-per_block-b32",
      "linear_quantize-linear_symmetric-int8-per_channel",
      "palettize-kmeans-2bit-per_grouped_channel-g16",
      "palettize-kmeans-2bit-per_tensor",
      "palettize-kmeans-3bit-per_tensor",
      "palettize-kmeans-4bit-per_grouped_channel-g16",
      "palettize-kmeans-4bit-per_tensor",
      "palettize-kmeans-6bit-per_tensor",
      "palettize-kmeans-8bit-per_tensor",
      "palettize-uniform-4bit-per_tensor",
      "prune-magnitude-s50",
      "prune-magnitude-s75");

  @TempDir static Path work;
  private SweepOutcome direct;
  private SweepOutcome flink;

  @BeforeAll
  void runTheDemoOnBothRunners() {
    direct = DemoSweep.direct(); // shared with the report's tests
    flink = new SweepRunner(System.out).run(SPEC, Launch.embedded().withOut(work.resolve("flink")));
  }



  @Test
  void runsHasOneRowPerConfigAndAllSucceeded() throws Exception {
    List<Map<String, Object>> runs = query("SELECT * FROM " + table(direct.out(), "runs") + " ORDER BY config_id");
    assertEquals(CONFIG_IDS, runs.stream().map(r -> r.get("config_id")).toList());
    for (Map<String, Object> run : runs) {
      assertEquals(direct.sweepId(), run.get("sweep_id"));
      assertEquals("ok", run.get("status"), run.toString());
      assertEquals("classification", run.get("task"));
      assertEquals(540, ((Number) run.get("eval_samples")).intValue());
      assertEquals(532.0 / 540, (Double) run.get("baseline_accuracy"), 0.0, "the fp32 model's accuracy (manifest)");
      assertEquals(Files.size(Fixtures.digits().resolve("model.onnx")), ((Number) run.get("original_bytes")).longValue());
      assertEquals(2, ((Number) run.get("layers_compressed")).intValue());
    }
  }

  @Test
  void layersHasOneRowPerConfigAndLayer() throws Exception {
    List<Map<String, Object>> layers = query("SELECT * FROM " + table(direct.out(), "layers") + " ORDER BY config_id, layer");
    assertEquals(CONFIG_IDS.size() * 2, layers.size());
    for (Map<String, Object> layer : layers) {
      String name = (String) layer.get("layer");
      assertTrue(name.equals("features.2.weight") || name.equals("classifier.0.weight"), name);
      long params = name.equals("features.2.weight") ? 4608 : 65536;
      assertEquals(params, ((Number) layer.get("params")).longValue());
      assertEquals(params * 4, ((Number) layer.get("original_bytes")).longValue());
      assertEquals(name.equals("features.2.weight") ? "[32,16,3,3]" : "[128,512]", layer.get("shape"));
      assertTrue(((Number) layer.get("compressed_bytes")).longValue() < params * 4, layer.toString());
      // The demo spec names calibration_data, so every method's output error tr(ΔW H ΔWᵀ) is measured.
      assertTrue((Double) layer.get("output_error") > 0, layer.toString());
    }
    List<Map<String, Object>> pruned = query("SELECT sparsity FROM " + table(direct.out(), "layers")
        + " WHERE config_id = 'prune-magnitude-s50'");
    for (Map<String, Object> row : pruned) {
      assertEquals(0.5, (Double) row.get("sparsity"), 1e-3);
    }
  }

  @Test
  void directRunnerAndEmbeddedFlinkProduceTheSameResults() throws Exception {
    assertEquals(direct.sweepId(), flink.sweepId());
    for (String t : List.of("runs", "layers")) {
      List<Map<String, Object>> a = query("SELECT * FROM " + table(direct.out(), t) + " ORDER BY ALL");
      List<Map<String, Object>> b = query("SELECT * FROM " + table(flink.out(), t) + " ORDER BY ALL");
      a.forEach(row -> row.keySet().removeAll(ResultTables.TIMING_COLUMNS));
      b.forEach(row -> row.keySet().removeAll(ResultTables.TIMING_COLUMNS));
      assertEquals(a, b, t);
    }
  }

  @Test
  void everyPackageLoadsInOnnxRuntimeAndScoresWhatRunsSays() throws Exception {
    NpyArray inputs = NpyArray.read(Fixtures.digits().resolve("eval/input.npy"));
    long[] labels = NpyArray.read(Fixtures.digits().resolve("eval/labels.npy")).longs(0, 540);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    for (Map<String, Object> run : query("SELECT config_id, accuracy, package_path, compressed_bytes FROM "
        + table(direct.out(), "runs"))) {
      Path model = direct.out().resolve((String) run.get("package_path"));
      assertEquals(Files.size(model), ((Number) run.get("compressed_bytes")).longValue());
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      options.addConfigEntry("session.disable_quant_qdq", "1");
      try (OrtSession session = env.createSession(model.toString(), options);
          OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(inputs.floats(0, 540)), new long[] {540, 1, 8, 8});
          OrtSession.Result result = session.run(Map.of("input", input))) {
        float[][] logits = (float[][]) result.get(0).getValue();
        int correct = 0;
        for (int s = 0; s < 540; s++) {
          int best = 0;
          for (int c = 1; c < 10; c++) {
            if (logits[s][c] > logits[s][best]) {
              best = c;
            }
          }
          correct += best == labels[s] ? 1 : 0;
        }
        assertEquals(correct / 540.0, (Double) run.get("accuracy"), 1e-12, (String) run.get("config_id"));
      }
    }
  }

  @Test
  void packagesAreSmallAndCarryTheirManifest() throws Exception {
    long original = Files.size(Fixtures.digits().resolve("model.onnx"));
    // File ratios include what stays fp32: the two layers under weight_threshold, biases and the graph (2.4 % of
    // this small model); int4 with blocks of 32 (fp32 scales: 5 bits per weight) comes to 19.3 %, blocks of 128 to ~16 %.
    Map<String, Double> limits = Map.of("palettize-kmeans-4bit-per_tensor", 0.30,
        "palettize-kmeans-4bit-per_grouped_channel-g16", 0.30, "linear_quantize-linear_symmetric-int8-per_channel", 0.30,
        "linear_quantize-linear_symmetric-int4-per_block-b128", 0.18);
    for (var limit : limits.entrySet()) {
      Path model = direct.out().resolve("packages").resolve(limit.getKey()).resolve("model.onnx");
      double ratio = (double) Files.size(model) / original;
      assertTrue(ratio <= limit.getValue(), limit.getKey() + " is " + ratio + " of the original");
    }
    Map<String, Object> int4Layers = query("SELECT sum(compressed_bytes) / sum(original_bytes) AS ratio FROM "
        + table(direct.out(), "layers") + " WHERE config_id = 'linear_quantize-linear_symmetric-int4-per_block-b32'").get(0);
    assertTrue(((Number) int4Layers.get("ratio")).doubleValue() <= 0.18, int4Layers.toString());
    JsonNode manifest = new ObjectMapper().readTree(direct.out()
        .resolve("packages/palettize-kmeans-4bit-per_tensor/manifest.json").toFile());
    assertEquals(dev.bitsweep.onnx.OnnxModel.sha256(Fixtures.digits().resolve("model.onnx")),
        manifest.at("/source_model/sha256").asText());
    assertEquals(DataFingerprint.of(Fixtures.digits().resolve("eval")), manifest.get("eval_data_sha256").asText());
    assertEquals("palettize", manifest.at("/config/global/method").asText());
    assertEquals(4, manifest.at("/config/global/nbits").asInt());
    assertEquals(2, manifest.get("layers").size());
    assertEquals(2, manifest.get("skipped").size());
  }

  @Test
  void rerunningTheSweepReplacesItsResults() throws Exception {
    SweepOutcome again = new SweepRunner(System.out).run(SPEC,
        Launch.embedded().withRunner("direct").withOut(direct.out()));
    assertEquals(direct.sweepId(), again.sweepId());
    assertEquals(13L, query("SELECT count(*) AS n FROM " + table(direct.out(), "runs")).get(0).get("n"));
    assertEquals(26L, query("SELECT count(*) AS n FROM " + table(direct.out(), "layers")).get(0).get("n"));
    // Each submission stages under .staging/<sweepId>-<8 hex>; after publishing, none of this sweep's is left.
    try (var staged = Files.list(direct.out().resolve(".staging"))) {
      List<String> left = staged.map(p -> p.getFileName().toString())
          .filter(name -> name.startsWith(direct.sweepId() + "-")).toList();
      assertEquals(List.of(), left, "staging areas left after publishing");
    }
  }
}
