package dev.bitsweep.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.TestModels;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.onnx.OnnxModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ModelRunnerTest {
  private static final Path DIGITS = TestModels.repositoryRoot().resolve("calibration-data/digits");

  private static List<ModelInput> inputs() {
    return ModelInput.of(OnnxModel.read(DIGITS.resolve("model.onnx")).proto());
  }

  private static ModelRunner.Output runAll(int threads, Dataset data) {
    try (ModelRunner runner = ModelRunner.open(DIGITS.resolve("model.onnx"), inputs(), threads)) {
      assertEquals(threads, runner.intraOpThreads());
      return runner.run(data, 0, data.samples());
    }
  }

  @Test
  void outputsAreIdenticalAtOneAndTwoThreadsAndMatchTheReferenceLogits() {
    Dataset data = Dataset.open(DIGITS.resolve("eval"), inputs(), false);
    ModelRunner.Output one = runAll(1, data);
    ModelRunner.Output two = runAll(2, data);
    assertArrayEquals(one.shape(), two.shape());
    assertArrayEquals(one.values(), two.values(), 0f, "bitwise equal outputs at 1 and 2 intra-op threads");
    // independent check: the logits PyTorch wrote when the fixture was made
    NpyArray reference = NpyArray.read(DIGITS.resolve("reference/eval_logits.npy"));
    assertArrayEquals(reference.floats(0, reference.samples()), one.values(), 1e-4f);
  }

  @Test
  void theThreadCountReachesTheSession() throws Exception {
    // ONNX Runtime's pool threads are native threads cloned from the thread that opens the session, so they
    // carry its name; the pool has intra-op threads - 1 of them besides the caller
    assertEquals(0, poolThreadsOpenedWith(1));
    assertEquals(2, poolThreadsOpenedWith(3));
  }

  private static int poolThreadsOpenedWith(int threads) throws Exception {
    String name = "ortprobe" + threads;
    AtomicReference<Integer> count = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread opener = new Thread(() -> {
      try (ModelRunner runner = ModelRunner.open(DIGITS.resolve("model.onnx"), inputs(), threads)) {
        count.set(threadsNamed(name) - 1);
      } catch (Throwable e) {
        failure.set(e);
      }
    }, name);
    opener.start();
    opener.join();
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    return count.get();
  }

  private static int threadsNamed(String name) throws IOException {
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      return (int) tasks.filter(task -> {
        try {
          return Files.readString(task.resolve("comm")).strip().equals(name);
        } catch (IOException e) {
          return false; // the thread ended meanwhile
        }
      }).count();
    }
  }

  @Test
  void sessionAndRunTimesAreKeptApart() {
    Dataset data = Dataset.open(DIGITS.resolve("eval"), inputs(), false);
    try (ModelRunner runner = ModelRunner.open(DIGITS.resolve("model.onnx"), inputs(), 1)) {
      assertTrue(runner.sessionSeconds() > 0);
      assertEquals(0, runner.runSeconds());
      runner.run(data, 0, 10);
      runner.run(data, 10, 30);
      assertTrue(runner.runSeconds() > 0);
      assertEquals(30, runner.runSamples());
      assertEquals(ModelRunner.SETTINGS, runner.settings());
    }
  }

  @Test
  void rejectsAThreadCountBelowOne() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelRunner.open(DIGITS.resolve("model.onnx"), inputs(), 0));
    assertTrue(e.getMessage().contains("intra-op threads must be >= 1"), e.getMessage());
  }
}
