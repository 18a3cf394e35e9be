package dev.bitsweep.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.TestModels;
import dev.bitsweep.data.InputFeed;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvaluationBenchmarkTest {
  private static final Path DIGITS = TestModels.repositoryRoot().resolve("calibration-data/digits");

  @Test
  void bothLoopsRunTheWholeEvalSetAndAgreeOnTheOutputs() {
    // run() refuses to report when the last batch's outputs of the two loops differ
    EvaluationBenchmark.Result result = EvaluationBenchmark.run(DIGITS.resolve("model.onnx"), DIGITS.resolve("eval"),
        64, 2, 1);
    assertEquals(dev.bitsweep.data.NpyArray.read(DIGITS.resolve("eval/input.npy")).samples(), result.samples());
    assertEquals(64, result.batch());
    assertEquals(2, result.threads());
    assertTrue(result.bitsweepSamplesPerSecond() > 0 && result.onnxRuntimeSamplesPerSecond() > 0);
    assertTrue(result.format(true).startsWith("{\"eval_model\":\"model.onnx\",\"samples\":" + result.samples()),
        result.format(true));
  }

  /**
   * The benchmark feeds the sweep's input layouts: run() compares ModelRunner's last batch with a plain loop that lays
   * the inputs out by itself (values, samples on model axis 1, state carried frame to frame, one run per sample of a
   * batch-1 model) and refuses to report when they differ.
   */
  @Test
  void bothLoopsAgreeOnEveryInputLayout() {
    Path gru = TestModels.repositoryRoot().resolve("calibration-data/streaming-gru");
    EvaluationBenchmark.Result stateful = EvaluationBenchmark.run(gru.resolve("model.onnx"), gru.resolve("eval"),
        Map.of("sr", InputFeed.constant(16000), "h", InputFeed.state("h_out", null, 1)), 2, 1, 1);
    assertEquals(71, stateful.samples());
    Path layouts = TestModels.repositoryRoot().resolve("pipeline/src/test/resources/input-layouts");
    EvaluationBenchmark.Result axis = EvaluationBenchmark.run(layouts.resolve("layout/model.onnx"),
        layouts.resolve("layout/eval"), Map.of("sr", InputFeed.constant(8000), "c", InputFeed.file(1)), 4, 1, 1);
    assertEquals(10, axis.samples());
    EvaluationBenchmark.Result batchOne = EvaluationBenchmark.run(layouts.resolve("batch1/model.onnx"),
        layouts.resolve("batch1/eval"), Map.of(), 8, 1, 1);
    assertEquals(20, batchOne.samples());
  }

  @Test
  void rejectsABatchBelowOne() {
    assertThrows(IllegalArgumentException.class,
        () -> EvaluationBenchmark.run(DIGITS.resolve("model.onnx"), DIGITS.resolve("eval"), 0, 1, 1));
  }
}
