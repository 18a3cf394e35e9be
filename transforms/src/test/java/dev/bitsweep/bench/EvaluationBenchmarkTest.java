package dev.bitsweep.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.TestModels;
import java.nio.file.Path;
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

  @Test
  void rejectsABatchBelowOne() {
    assertThrows(IllegalArgumentException.class,
        () -> EvaluationBenchmark.run(DIGITS.resolve("model.onnx"), DIGITS.resolve("eval"), 0, 1, 1));
  }
}
