package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.layer.Layer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The planner on the digits model: tasks, calibration choice and progress totals from one matching. */
class SweepPlannerTest {
  private static final String FEATURES = "features.2.weight";
  private static final String CLASSIFIER = "classifier.0.weight";

  @TempDir Path dir;

  private Path spec(String extra, String configs) throws IOException {
    Path digits = Fixtures.digits();
    Path spec = dir.resolve("sweep.yaml");
    Files.writeString(spec, "name: plan\nmodel: " + digits.resolve("model.onnx") + "\ntask: classification\n"
        + "eval_data: " + digits.resolve("eval") + "\nbatch_size: 60\nout: " + dir.resolve("out") + "\n" + extra
        + "configs:\n" + configs);
    return spec;
  }

  private static final String CONFIGS = """
        - id: int8-features-only
          method: linear_quantize
          mode: linear_symmetric
          dtype: int8
          granularity: per_channel
          layers:
            classifier.0.weight: null
        - id: kmeans4
          method: palettize
          mode: kmeans
          nbits: 4
          granularity: per_tensor
      """;

  private static List<String> names(List<LayerTask> tasks) {
    return tasks.stream().map(t -> t.configId() + "/" + t.layer().name()).toList();
  }

  @Test
  void tasksAreEveryAppliedPairConfigByConfigAndTheTotalsCountThem() throws IOException {
    PlannedSweep sweep = SweepPlanner.plan(spec("", CONFIGS), null);
    assertEquals(List.of("int8-features-only/" + FEATURES, "kmeans4/" + FEATURES, "kmeans4/" + CLASSIFIER),
        names(sweep.tasks()));
    assertEquals("linear_quantize", sweep.tasks().get(0).config().method());
    assertEquals("palettize", sweep.tasks().get(2).config().method());
    assertEquals(sweep.tasks(), SweepPlanner.tasks(sweep.configs(), sweep.inventory().layers()));
    assertEquals(new PlannedSweep.ProgressTotals(0, 3, 2, 2 * 9), sweep.totals(), "540 samples in batches of 60");
    assertFalse(sweep.calibration().isPresent(), "no calibration data");
    assertFalse(sweep.collectsStatistics());
    assertEquals(dir.resolve("out").toAbsolutePath(), sweep.out());
    assertEquals(sweep.out().resolve(".staging"), sweep.staging().getParent());
    assertTrue(sweep.staging().getFileName().toString().matches(sweep.sweepId() + "-[0-9a-f]{8}"),
        sweep.staging().toString());
    assertEquals(sweep.staging().toString(), sweep.plan().stagingDir());
  }

  @Test
  void theCalibrationPassMeasuresOnlyLayersThatSomeConfigCompresses() throws IOException {
    String calibration = "calibration_data: " + Fixtures.digits().resolve("calibration") + "\ncalibration_samples: 100\n";
    String featuresOnly = CONFIGS.substring(0, CONFIGS.indexOf("  - id: kmeans4"));
    PlannedSweep sweep = SweepPlanner.plan(spec(calibration, featuresOnly), dir.resolve("elsewhere"));
    assertEquals(dir.resolve("elsewhere").toAbsolutePath(), sweep.out(), "the override wins over the spec's out");
    CalibrationPlan plan = sweep.calibration().orElseThrow();
    assertEquals(List.of(FEATURES), plan.layers().stream().map(Layer::name).toList());
    assertEquals(100, plan.samples());
    assertEquals(2, plan.batchCount(), "100 samples in batches of 60");
    assertFalse(plan.cached(), "a fresh output directory has no statistics");
    assertTrue(plan.cacheDir().startsWith(sweep.out().resolve(".cache").toString()), plan.cacheDir());
    assertTrue(sweep.collectsStatistics());
    assertEquals(new PlannedSweep.ProgressTotals(2, 1, 1, 9), sweep.totals());
  }
}
