package dev.bitsweep.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.onnx.OnnxModel;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Evaluation throughput: samples per second of {@link ModelRunner} over a model's eval data against a plain ONNX
 * Runtime Java loop over the same model and data (same session settings, batch size and intra-op threads; the
 * loop's input arrays are sliced before timing, its tensors made, run and read back inside). Both run one warm-up
 * pass, then {@code rounds} timed passes each, alternating so that load from other processes falls on both alike;
 * the medians are reported.
 */
public final class EvaluationBenchmark {
  private EvaluationBenchmark() {}

  /** Medians of both loops: samples per second, and how many times the plain loop's throughput bitsweep's is. */
  public record Result(String model, int samples, int batch, int threads, double bitsweepSamplesPerSecond,
      double onnxRuntimeSamplesPerSecond, double sessionSeconds) {
    public double slowdown() {
      return onnxRuntimeSamplesPerSecond / bitsweepSamplesPerSecond;
    }

    public String format(boolean json) {
      if (json) {
        return String.format(Locale.ROOT, "{\"eval_model\":\"%s\",\"samples\":%d,\"batch\":%d,\"threads\":%d,"
            + "\"bitsweep_samples_per_second\":%.1f,\"onnxruntime_samples_per_second\":%.1f,\"slowdown\":%.3f,"
            + "\"session_seconds\":%.3f}", model, samples, batch, threads, bitsweepSamplesPerSecond,
            onnxRuntimeSamplesPerSecond, slowdown(), sessionSeconds);
      }
      return String.format(Locale.ROOT, "eval %s (%d samples, batch %d, %d intra-op threads): bitsweep %.1f samples/s,"
          + " plain onnxruntime loop %.1f samples/s, slowdown %.3fx; session %.3f s", model, samples, batch, threads,
          bitsweepSamplesPerSecond, onnxRuntimeSamplesPerSecond, slowdown(), sessionSeconds);
    }
  }

  public static Result run(Path modelFile, Path dataDirectory, int batch, int threads, int rounds) {
    if (batch < 1 || threads < 1 || rounds < 1) {
      throw new IllegalArgumentException("batch, threads and rounds must be >= 1");
    }
    List<ModelInput> inputs = ModelInput.of(OnnxModel.read(modelFile).proto());
    Dataset data = Dataset.open(dataDirectory, inputs, false);
    int samples = data.samples();
    try (ModelRunner runner = ModelRunner.open(modelFile, inputs, threads);
        PlainLoop plain = new PlainLoop(modelFile, inputs, data, batch, threads)) {
      double[] bitsweep = new double[rounds];
      double[] onnxRuntime = new double[rounds];
      float[] ours = passOfModelRunner(runner, data, batch);
      float[] theirs = plain.pass();
      if (!Arrays.equals(ours, theirs)) {
        throw new IllegalStateException("ModelRunner and the plain loop disagree on the last batch of " + modelFile);
      }
      for (int round = 0; round < rounds; round++) {
        // the loop that goes first alternates, so neither always follows the other
        if (round % 2 == 0) {
          bitsweep[round] = timedPass(samples, () -> passOfModelRunner(runner, data, batch));
          onnxRuntime[round] = timedPass(samples, plain::pass);
        } else {
          onnxRuntime[round] = timedPass(samples, plain::pass);
          bitsweep[round] = timedPass(samples, () -> passOfModelRunner(runner, data, batch));
        }
      }
      return new Result(modelFile.getFileName().toString(), samples, batch, threads, median(bitsweep),
          median(onnxRuntime), runner.sessionSeconds());
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on " + modelFile + ": " + e.getMessage(), e);
    }
  }

  private interface Pass {
    Object run() throws OrtException;
  }

  private static double timedPass(int samples, Pass pass) throws OrtException {
    long start = System.nanoTime();
    pass.run();
    return samples / ((System.nanoTime() - start) / 1e9);
  }

  private static float[] passOfModelRunner(ModelRunner runner, Dataset data, int batch) {
    float[] last = null;
    for (int from = 0; from < data.samples(); from += batch) {
      last = runner.run(data, from, Math.min(data.samples(), from + batch)).values();
    }
    return last;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** The loop a user of ONNX Runtime's Java API would write: tensors from arrays, run, first output read back. */
  private static final class PlainLoop implements AutoCloseable {
    private final OrtEnvironment environment = dev.bitsweep.eval.OrtRuntime.environment();
    private final OrtSession session;
    private final String outputName;
    private final List<Map<String, Object>> batches = new ArrayList<>();
    private final List<Map<String, long[]>> shapes = new ArrayList<>();

    PlainLoop(Path modelFile, List<ModelInput> inputs, Dataset data, int batch, int threads) throws OrtException {
      try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.addConfigEntry("session.disable_quant_qdq", "1");
        session = environment.createSession(modelFile.toString(), options);
      }
      outputName = session.getOutputNames().iterator().next();
      for (int from = 0; from < data.samples(); from += batch) {
        int to = Math.min(data.samples(), from + batch);
        Map<String, Object> arrays = new HashMap<>();
        Map<String, long[]> batchShapes = new HashMap<>();
        for (ModelInput input : inputs) {
          NpyArray array = data.inputs().get(input.name());
          long[] shape = array.shape();
          shape[0] = to - from;
          batchShapes.put(input.name(), shape);
          arrays.put(input.name(), switch (array.dtype()) {
            case "float32" -> array.floats(from, to);
            case "int32" -> Arrays.stream(array.longs(from, to)).mapToInt(v -> (int) v).toArray();
            default -> array.longs(from, to);
          });
        }
        batches.add(arrays);
        shapes.add(batchShapes);
      }
    }

    /** One pass over all batches; returns the last batch's output. */
    float[] pass() throws OrtException {
      float[] last = null;
      for (int b = 0; b < batches.size(); b++) {
        Map<String, OnnxTensor> feeds = new HashMap<>();
        try {
          for (Map.Entry<String, Object> entry : batches.get(b).entrySet()) {
            long[] shape = shapes.get(b).get(entry.getKey());
            Object array = entry.getValue();
            OnnxTensor tensor = array instanceof float[] f ? OnnxTensor.createTensor(environment, FloatBuffer.wrap(f), shape)
                : array instanceof int[] i ? OnnxTensor.createTensor(environment, IntBuffer.wrap(i), shape)
                : OnnxTensor.createTensor(environment, LongBuffer.wrap((long[]) array), shape);
            feeds.put(entry.getKey(), tensor);
          }
          try (OrtSession.Result result = session.run(feeds, java.util.Set.of(outputName))) {
            FloatBuffer buffer = ((OnnxTensor) result.get(0)).getFloatBuffer();
            last = new float[buffer.remaining()];
            buffer.get(last);
          }
        } finally {
          feeds.values().forEach(OnnxTensor::close);
        }
      }
      return last;
    }

    @Override
    public void close() throws OrtException {
      session.close();
    }
  }

  public static void main(String[] args) {
    if (args.length < 2) {
      System.out.println("usage: EvaluationBenchmark MODEL.onnx DATA_DIR [batch (32)] [threads (1)] [rounds (5)]");
      return;
    }
    int batch = args.length > 2 ? Integer.parseInt(args[2]) : 32;
    int threads = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 5;
    System.out.println(run(Path.of(args[0]), Path.of(args[1]), batch, threads, rounds).format(false));
  }
}
