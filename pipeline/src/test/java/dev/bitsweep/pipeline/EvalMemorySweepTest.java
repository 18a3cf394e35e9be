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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An evaluation that does not fit the memory budget is its configs' error row, and the sweep still publishes. */
class EvalMemorySweepTest {
  @TempDir Path work;

  @Test
  void aSessionBeyondTheBudgetIsEachConfigsErrorRow() throws Exception {
    // an earlier test class in this JVM may have left the original's session open, which would skip its budget check
    EvalSessions.closeIdleSessions();
    Path model = Fixtures.digits().resolve("model.onnx");
    Path spec = work.resolve("sweep.yaml");
    Files.writeString(spec, String.join("\n",
        "name: tight",
        "model: " + model,
        "task: agreement",
        "eval_data: " + Fixtures.digits().resolve("eval"),
        "batch_size: 540",
        "weight_threshold: 2048",
        "configs:",
        "  - id: int8",
        "    method: linear_quantize",
        "    mode: linear_symmetric",
        "    dtype: int8",
        "    granularity: per_channel",
        ""));
    long modelBytes = Files.size(model);
    // the original's session is charged twice its file (decoded weights + the file while it is created)
    long budget = modelBytes;
    SweepOutcome outcome = new SweepRunner(System.out).evalMemory(budget)
        .run(spec, Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
    List<Map<String, Object>> runs = query("SELECT status, error, eval_seconds FROM " + table(outcome.out(), "runs"));
    assertEquals(1, runs.size());
    assertEquals("failed", runs.get(0).get("status"));
    String error = (String) runs.get(0).get("error");
    assertEquals("evaluation of batch 0 failed: evaluating " + model.toAbsolutePath() + " needs about "
        + EvalMemory.format(2 * modelBytes) + " of native memory for its ONNX Runtime session (the decoded weights and"
        + " the file), more than the evaluation memory budget of " + EvalMemory.format(budget) + " per worker; raise"
        + " --eval-memory (default: " + EvalMemory.describeDefault() + ") or give the worker more memory", error);
    assertTrue(Files.isRegularFile(outcome.report()), "the sweep published its results");
  }
}
