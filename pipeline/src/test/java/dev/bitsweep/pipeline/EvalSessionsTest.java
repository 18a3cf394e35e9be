package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sessions are shared between threads and evicted while others may still run them: none is closed under a user, and
 * no more are open than the memory budget holds.
 */
class EvalSessionsTest {
  /** Each test session is charged 1 MB; the budget holds four. */
  private static final long SESSION_BYTES = 1 << 20;
  private static final long BUDGET = 4 * SESSION_BYTES;
  private static final int MODELS = 10;
  private static final int THREADS = 4;
  private static final int CALLS_PER_THREAD = 40;
  private static final int BATCH = 30;
  private static final int BATCHES = 4;

  @TempDir Path dir;

  @org.junit.jupiter.api.BeforeEach
  void noSessionLeftByOtherTests() {
    EvalSessions.closeIdleSessions();
    assertEquals(0, EvalSessions.openSessions());
  }

  @Test
  void moreModelsThanSessionsFromSeveralThreads() throws Exception {
    assertTrue(MODELS > BUDGET / SESSION_BYTES);
    EvalSessions.resetPeak();
    Path original = Fixtures.digits().resolve("model.onnx");
    OnnxModel digits = OnnxModel.read(original);
    List<ModelInput> inputs = ModelInput.of(digits.proto());
    Dataset data = Dataset.open(Fixtures.digits().resolve("eval"), inputs, false);
    List<String> models = new ArrayList<>();
    float[][][] expected = new float[MODELS][BATCHES][];
    for (int m = 0; m < MODELS; m++) {
      Path file = dir.resolve("package-" + m + ".onnx");
      Files.write(file, withLogitBiasShiftedBy(digits.proto(), m).toByteArray());
      models.add(file.toString());
      try (ModelRunner reference = ModelRunner.open(file, inputs)) {
        for (int b = 0; b < BATCHES; b++) {
          expected[m][b] = reference.run(data, b * BATCH, (b + 1) * BATCH).values();
        }
      }
    }
    // the models really differ, so a mixed-up session would be caught
    assertTrue(expected[0][0][0] != expected[1][0][0]);

    List<String> failures = Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<Integer>> checked = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        long seed = t;
        checked.add(pool.submit(() -> {
          Random random = new Random(seed);
          int done = 0;
          for (int call = 0; call < CALLS_PER_THREAD; call++) {
            int m = random.nextInt(MODELS);
            int b = random.nextInt(BATCHES);
            try {
              float[] actual = EvalSessions.run(models.get(m), inputs, data, b * BATCH, (b + 1) * BATCH,
                  SESSION_BYTES, BUDGET).values();
              assertArrayEquals(expected[m][b], actual, "model " + m + ", batch " + b);
              done++;
            } catch (RuntimeException e) {
              failures.add(e.toString());
            }
            if (call % 13 == 5) {
              EvalSessions.forget(models.get(random.nextInt(MODELS)));
            }
          }
          return done;
        }));
      }
      int total = 0;
      for (Future<Integer> future : checked) {
        total += future.get();
      }
      assertEquals(List.of(), failures);
      assertEquals(THREADS * CALLS_PER_THREAD, total);
    } finally {
      pool.shutdownNow();
    }
    assertTrue(EvalSessions.peakSessions() <= 4, "at most 4 sessions open at once: " + EvalSessions.peakSessions());
    assertTrue(EvalSessions.openSessions() <= 4, "open sessions: " + EvalSessions.openSessions());
    models.forEach(EvalSessions::forget);
    assertEquals(0, EvalSessions.openSessions());
    assertEquals(0, EvalSessions.usedBytes());
  }

  @Test
  void aSessionBeyondTheBudgetIsAClearErrorNotAnAttempt() throws Exception {
    Path original = Fixtures.digits().resolve("model.onnx");
    List<ModelInput> inputs = ModelInput.of(OnnxModel.read(original).proto());
    Dataset data = Dataset.open(Fixtures.digits().resolve("eval"), inputs, false);
    EvalSessions.EvalMemoryException e = assertThrows(EvalSessions.EvalMemoryException.class,
        () -> EvalSessions.run(original.toString(), inputs, data, 0, 10, 3L << 30, 2L << 30));
    assertTrue(e.getMessage().startsWith("evaluating " + original + " needs about 3.00 GB of native memory for its"
        + " ONNX Runtime session"), e.getMessage());
    assertTrue(e.getMessage().contains("more than the evaluation memory budget of 2.00 GB per worker; raise"
        + " --eval-memory (default: "), e.getMessage());
    assertEquals(0, EvalSessions.openSessions(), "nothing was opened");
  }

  @Test
  void aModelsSessionsCloseWhenAllItsBatchesAreDone() throws Exception {
    Path file = dir.resolve("package.onnx");
    Files.copy(Fixtures.digits().resolve("model.onnx"), file);
    List<ModelInput> inputs = ModelInput.of(OnnxModel.read(file).proto());
    Dataset data = Dataset.open(Fixtures.digits().resolve("eval"), inputs, false);
    for (int b = 0; b < 3; b++) {
      EvalSessions.run(file.toString(), inputs, data, b * BATCH, (b + 1) * BATCH, SESSION_BYTES, BUDGET);
      assertEquals(1, EvalSessions.openSessions(), "open after batch " + b);
      EvalSessions.batchDone("sweep-a", file.toString(), 3);
    }
    assertEquals(0, EvalSessions.openSessions(), "closed after its last batch");
    assertEquals(0, EvalSessions.usedBytes());
  }

  private static Onnx.ModelProto withLogitBiasShiftedBy(Onnx.ModelProto model, float shift) {
    Onnx.ModelProto.Builder builder = model.toBuilder();
    for (Onnx.TensorProto.Builder tensor : builder.getGraphBuilder().getInitializerBuilderList()) {
      if (tensor.getName().equals("classifier.2.bias")) {
        ByteBuffer raw = tensor.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer shifted = ByteBuffer.allocate(raw.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        while (raw.hasRemaining()) {
          shifted.putFloat(raw.getFloat() + shift);
        }
        tensor.setRawData(com.google.protobuf.ByteString.copyFrom(shifted.array()));
      }
    }
    return builder.build();
  }
}
