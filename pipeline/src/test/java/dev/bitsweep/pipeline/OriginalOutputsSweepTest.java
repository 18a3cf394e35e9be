package dev.bitsweep.pipeline;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.cluster.Launch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The original model runs once per eval batch for a whole sweep (not once per package), and not at all when the
 * sweep is run again; a damaged cache file is recomputed; the metrics are the same either way.
 */
class OriginalOutputsSweepTest {
  private static final int BATCHES = 9; // 540 digits in batches of 60

  @TempDir Path work;

  @Test
  void theOriginalRunsOncePerBatchAcrossConfigsAndNotAtAllOnARerun() throws Exception {
    Path spec = work.resolve("sweep.yaml");
    Files.writeString(spec, String.join("\n",
        "name: originals",
        "model: " + Fixtures.digits().resolve("model.onnx"),
        "task: classification",
        "eval_data: " + Fixtures.digits().resolve("eval"),
        "batch_size: 60",
        "weight_threshold: 2048",
        "configs:",
        "  - id: int8",
        "    method: linear_quantize",
        "    mode: linear_symmetric",
        "    dtype: int8",
        "    granularity: per_channel",
        "  - id: kmeans4",
        "    method: palettize",
        "    mode: kmeans",
        "    nbits: 4",
        "  - id: prune50",
        "    method: prune",
        "    mode: magnitude",
        "    target_sparsity: 0.5",
        ""));
    Launch launch = Launch.embedded().withRunner("direct").withOut(work.resolve("out"));

    long before = OriginalOutputCache.computed();
    SweepOutcome first = new SweepRunner(System.out).run(spec, launch);
    assertEquals(BATCHES, OriginalOutputCache.computed() - before, "original runs for 3 configs x 9 batches");
    Path cache = OriginalOutputCache.directory(first.out());
    assertEquals(BATCHES, cacheFiles(cache).size());
    List<Map<String, Object>> computed = metrics(first);
    for (Map<String, Object> run : query("SELECT * FROM " + table(first.out(), "runs"))) {
      assertEquals("ok", run.get("status"), run.toString());
      assertEquals(532.0 / 540, (Double) run.get("baseline_accuracy"), 0.0, "the fp32 model's accuracy");
      assertEquals(540, ((Number) run.get("eval_samples")).intValue());
      double evalSeconds = (Double) run.get("eval_seconds");
      double session = (Double) run.get("eval_session_seconds");
      double inference = (Double) run.get("eval_run_seconds");
      assertTrue(session > 0, "the package's session was created and timed: " + run);
      assertTrue(inference > 0 && session + inference <= evalSeconds + 1e-9, run.toString());
    }

    before = OriginalOutputCache.computed();
    SweepOutcome again = new SweepRunner(System.out).run(spec, launch);
    assertEquals(0, OriginalOutputCache.computed() - before, "a rerun reads every batch from the cache");
    assertEquals(computed, metrics(again));

    // A truncated file and one overwritten by another batch's file are not used: those two batches run again.
    List<Path> files = cacheFiles(cache);
    Files.write(files.get(0), java.util.Arrays.copyOf(Files.readAllBytes(files.get(0)), 100));
    Files.copy(files.get(2), files.get(1), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    before = OriginalOutputCache.computed();
    SweepOutcome repaired = new SweepRunner(System.out).run(spec, launch);
    assertEquals(2, OriginalOutputCache.computed() - before);
    assertEquals(computed, metrics(repaired));
    assertEquals(BATCHES, cacheFiles(cache).size(), "no temporary files left");
  }

  private static List<Path> cacheFiles(Path cache) throws Exception {
    try (Stream<Path> files = Files.list(cache)) {
      return files.sorted().toList();
    }
  }

  /** The metric columns (not the timings: they differ between runs). */
  private static List<Map<String, Object>> metrics(SweepOutcome outcome) throws Exception {
    return query("SELECT config_id, status, accuracy, baseline_accuracy, agreement, output_snr_db, max_abs_diff,"
        + " eval_samples FROM " + table(outcome.out(), "runs") + " ORDER BY config_id").stream()
        .toList();
  }
}
