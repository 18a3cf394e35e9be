package dev.bitsweep.pipeline;

import static dev.bitsweep.GeneratedModels.FLOAT;
import static dev.bitsweep.GeneratedModels.node;
import static dev.bitsweep.GeneratedModels.valueInfo;
import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.GeneratedModels;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.cluster.BeamJob;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.beam.sdk.PipelineResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, calibration statistics at scale, on an attention-shaped model: x [N, 8] feeds the q, k and v projections
 * (8 x 6 each), their outputs are concatenated into the o projection (18 x 4). The same model with an Identity in
 * front of each projection ("separate") gives every layer its own input tensor, so its statistics are computed as
 * they were before Hessians were shared: q, k and v must then share one Hessian file whose bits equal each separate
 * one, and GPTQ's results must not change. Grouped capture (a tiny memory budget: one Hessian per group) must give
 * the same bits as capturing all four at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SharedAndGroupedStatisticsTest {
  private static final int SAMPLES = 40;
  @TempDir static Path work;
  private Path sharedSpec;
  private Path separateSpec;
  private SweepOutcome shared;
  private SweepOutcome separate;

  @BeforeAll
  void sweepBothModels() throws Exception {
    Path sharedModel = GeneratedModels.write(work.resolve("shared.onnx"), graph(false));
    Path separateModel = GeneratedModels.write(work.resolve("separate.onnx"), graph(true));
    Random random = new Random(13);
    float[] x = new float[SAMPLES * 8];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextGaussian() + 0.2 * (i % 8));
    }
    GeneratedModels.writeNpy(work.resolve("data/x.npy"), x, SAMPLES, 8);
    sharedSpec = spec("shared", sharedModel);
    separateSpec = spec("separate", separateModel);
    shared = new SweepRunner(System.out).run(sharedSpec,
        Launch.embedded().withRunner("direct").withOut(work.resolve("shared-out")));
    separate = new SweepRunner(System.out).run(separateSpec,
        Launch.embedded().withRunner("direct").withOut(work.resolve("separate-out")));
  }

  private static Onnx.GraphProto graph(boolean separate) {
    Random random = new Random(7);
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName(separate ? "separate" : "shared")
        .addInput(valueInfo("x", FLOAT, -1, 8)).addOutput(valueInfo("y", FLOAT, -1, 4));
    for (String projection : List.of("q", "k", "v")) {
      g.addInitializer(GeneratedModels.randomTensor(projection, random, 0.4, 8, 6));
      String input = "x";
      if (separate) {
        input = "x_" + projection;
        g.addNode(node("Identity", "copy_" + projection, new String[] {"x"}, input));
      }
      g.addNode(node("MatMul", projection, new String[] {input, projection}, "y_" + projection));
    }
    g.addInitializer(GeneratedModels.randomTensor("o", random, 0.3, 18, 4));
    g.addNode(node("Concat", "concat", new String[] {"y_q", "y_k", "y_v"}, "c")
        .addAttribute(GeneratedModels.intAttr("axis", 1)));
    g.addNode(node("MatMul", "o", new String[] {"c", "o"}, "y"));
    return g.build();
  }

  private static Path spec(String name, Path model) throws Exception {
    Path spec = work.resolve(name + ".yaml");
    Files.writeString(spec, String.join("\n", "name: " + name, "model: " + model, "task: embedding",
        "eval_data: data", "calibration_data: data", "batch_size: 8", "weight_threshold: 0", "configs:",
        "  - {id: gptq4, method: gptq, nbits: 4}",
        "  - {id: gptq3-g2, method: gptq, nbits: 3, group_size: 2}", ""));
    return spec;
  }

  private static Path cacheDir(SweepOutcome outcome) throws Exception {
    try (Stream<Path> dirs = Files.list(outcome.out().resolve(".cache/statistics"))) {
      return dirs.findFirst().orElseThrow();
    }
  }

  private static List<String> statsFiles(Path cache) throws Exception {
    try (Stream<Path> files = Files.list(cache)) {
      return files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".stats")).sorted().toList();
    }
  }

  @Test
  void layersReadingOneTensorShareOneHessianFile() throws Exception {
    CalibrationPlan plan = SweepPlanner.plan(sharedSpec, work.resolve("plan-only")).calibration().orElseThrow();
    assertEquals(Map.of("q", "q", "k", "q", "v", "q", "o", "o"), plan.hessianOf());
    assertEquals(List.of("q", "o"), plan.hessianNames());
    Path cache = cacheDir(shared);
    assertEquals(List.of(StatisticsCache.file(cache, "o").getFileName().toString(),
        StatisticsCache.file(cache, "q").getFileName().toString()), statsFiles(cache));
    assertEquals(4, statsFiles(cacheDir(separate)).size(), "one per layer where every layer has its own input");
    for (String layer : List.of("q", "k", "v")) {
      LayerStatistics own = StatisticsCache.read(cacheDir(separate), layer);
      LayerStatistics sharedOne = StatisticsCache.read(cache, "q");
      assertArrayEquals(own.hessian(), sharedOne.hessian(), layer);
      assertEquals((long) SAMPLES, sharedOne.rows());
      assertEquals(own.min(), sharedOne.min());
      assertEquals(own.max(), sharedOne.max());
    }
    assertArrayEquals(StatisticsCache.read(cacheDir(separate), "o").hessian(), StatisticsCache.read(cache, "o").hessian());
  }

  @Test
  void gptqResultsAreTheSameAsWithAHessianPerLayer() throws Exception {
    String columns = "config_id, layer, status, compressed_bytes, weight_snr_db, output_error, percdamp_used";
    List<Map<String, Object>> sharedRows = query("SELECT " + columns + " FROM " + table(shared.out(), "layers")
        + " ORDER BY config_id, layer");
    List<Map<String, Object>> separateRows = query("SELECT " + columns + " FROM " + table(separate.out(), "layers")
        + " ORDER BY config_id, layer");
    assertEquals(8, sharedRows.size());
    sharedRows.forEach(row -> assertEquals("ok", row.get("status"), row.toString()));
    assertEquals(separateRows, sharedRows);
    for (String config : List.of("gptq4", "gptq3-g2")) {
      Map<String, Onnx.TensorProto> a = initializers(shared, config);
      Map<String, Onnx.TensorProto> b = initializers(separate, config);
      assertEquals(b.keySet(), a.keySet());
      a.forEach((name, tensor) -> assertEquals(b.get(name), tensor, config + " " + name));
    }
  }

  private static Map<String, Onnx.TensorProto> initializers(SweepOutcome outcome, String config) {
    Path model = outcome.out().resolve("packages").resolve(outcome.sweepId()).resolve(config).resolve("model.onnx");
    Map<String, Onnx.TensorProto> tensors = new TreeMap<>();
    OnnxModel.read(model).proto().getGraph().getInitializerList().forEach(t -> tensors.put(t.getName(), t));
    return tensors;
  }

  @Test
  void groupedCaptureGivesTheBitsOfCapturingEverythingAtOnce() throws Exception {
    PlannedSweep together = SweepPlanner.plan(separateSpec, work.resolve("together"), Long.MAX_VALUE);
    PlannedSweep grouped = SweepPlanner.plan(separateSpec, work.resolve("grouped"), 1);
    assertEquals(List.of(List.of("q", "k", "v", "o")), names(together.calibration().orElseThrow().captureGroups()));
    assertEquals(List.of(List.of("q"), List.of("k"), List.of("v"), List.of("o")),
        names(grouped.calibration().orElseThrow().captureGroups()));
    assertEquals(4 * 5L, grouped.totals().calibrateBatches(), "5 batches for each of 4 groups");
    long togetherRuns = collect(together, Launch.embedded().withRunner("direct"));
    long groupedRuns = collect(grouped, Launch.embedded());
    assertEquals(5, togetherRuns);
    assertEquals(20, groupedRuns);
    Path a = Path.of(together.calibration().orElseThrow().cacheDir());
    Path b = Path.of(grouped.calibration().orElseThrow().cacheDir());
    for (String layer : List.of("q", "k", "v", "o")) {
      LayerStatistics one = StatisticsCache.read(a, layer);
      LayerStatistics other = StatisticsCache.read(b, layer);
      assertArrayEquals(one.hessian(), other.hessian(), layer);
      assertEquals(one.rows(), other.rows());
      assertArrayEquals(one.hessian(), StatisticsCache.read(cacheDir(separate), layer).hessian(),
          layer + ": the same bits as the sweep's own statistics job");
    }
    try (Stream<Path> files = Files.walk(grouped.staging().resolve("statistics-partials"))) {
      assertFalse(files.anyMatch(Files::isRegularFile), "every partial is deleted once summed");
    }
  }

  /** Runs the statistics job of a plan and returns how many (batch, group) runs it made. */
  private static long collect(PlannedSweep sweep, Launch launch) throws Exception {
    Files.createDirectories(sweep.staging());
    PipelineResult result = new BeamJob(launch, "statistics-" + sweep.out().getFileName(), System.out)
        .run(p -> SweepPipeline.buildStatistics(p, sweep));
    assertTrue(sweep.collectsStatistics());
    return BeamJob.counter(result, CollectStatistics.class, CollectStatistics.BATCHES_COUNTER);
  }

  private static List<List<String>> names(List<List<Layer>> groups) {
    return groups.stream().map(g -> g.stream().map(Layer::name).toList()).toList();
  }
}
