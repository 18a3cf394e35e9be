package dev.bitsweep.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.InputFeed;
import dev.bitsweep.data.InputLayout;
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
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

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
    return run(modelFile, dataDirectory, Map.of(), batch, threads, rounds);
  }

  /**
   * As {@link #run(Path, Path, int, int, int)}, with the inputs fed as {@code feeds} say (a sweep spec's
   * {@code inputs:}: values, batch axes, states); with state inputs {@code batch} counts whole sequences per
   * {@link ModelRunner#run} call, and the plain loop carries the state frame to frame itself.
   */
  public static Result run(Path modelFile, Path dataDirectory, Map<String, InputFeed> feeds, int batch, int threads,
      int rounds) {
    if (batch < 1 || threads < 1 || rounds < 1) {
      throw new IllegalArgumentException("batch, threads and rounds must be >= 1");
    }
    Path base = modelFile.toAbsolutePath().getParent();
    List<ModelInput> inputs = InputLayout.apply(OnnxModel.read(modelFile).proto(), feeds, base);
    Dataset data = Dataset.open(dataDirectory, inputs, false);
    int samples = data.samples();
    List<int[]> groups = groups(data, batch);
    try (ModelRunner runner = ModelRunner.open(modelFile, inputs, threads);
        PlainLoop plain = new PlainLoop(modelFile, inputs, data, groups, threads)) {
      double[] bitsweep = new double[rounds];
      double[] onnxRuntime = new double[rounds];
      float[] ours = passOfModelRunner(runner, data, groups);
      float[] theirs = plain.pass();
      if (!Arrays.equals(ours, theirs)) {
        throw new IllegalStateException("ModelRunner and the plain loop disagree on the last batch of " + modelFile);
      }
      for (int round = 0; round < rounds; round++) {
        // the loop that goes first alternates, so neither always follows the other
        if (round % 2 == 0) {
          bitsweep[round] = timedPass(samples, () -> passOfModelRunner(runner, data, groups));
          onnxRuntime[round] = timedPass(samples, plain::pass);
        } else {
          onnxRuntime[round] = timedPass(samples, plain::pass);
          bitsweep[round] = timedPass(samples, () -> passOfModelRunner(runner, data, groups));
        }
      }
      return new Result(modelFile.getFileName().toString(), samples, batch, threads, median(bitsweep),
          median(onnxRuntime), runner.sessionSeconds());
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on " + modelFile + ": " + e.getMessage(), e);
    }
  }

  /** [from, to) of each ModelRunner call: batch samples, or batch whole sequences with state inputs. */
  private static List<int[]> groups(Dataset data, int batch) {
    int[] starts = data.sequenceStarts();
    List<int[]> groups = new ArrayList<>();
    if (starts.length == 0) {
      for (int from = 0; from < data.samples(); from += batch) {
        groups.add(new int[] {from, Math.min(data.samples(), from + batch)});
      }
      return groups;
    }
    for (int s = 0; s < starts.length; s += batch) {
      groups.add(new int[] {starts[s], s + batch < starts.length ? starts[s + batch] : data.samples()});
    }
    return groups;
  }

  private interface Pass {
    Object run() throws OrtException;
  }

  private static double timedPass(int samples, Pass pass) throws OrtException {
    long start = System.nanoTime();
    pass.run();
    return samples / ((System.nanoTime() - start) / 1e9);
  }

  private static float[] passOfModelRunner(ModelRunner runner, Dataset data, List<int[]> groups) {
    float[] last = null;
    for (int[] group : groups) {
      last = runner.run(data, group[0], group[1]).values();
    }
    return last;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /**
   * The loop a user of ONNX Runtime's Java API would write: input arrays sliced (and, for an input whose samples go
   * on another model axis, transposed) before timing; tensors made, run and the first output read back inside, one
   * run per fixed batch of the model, or per frame carrying the state outputs into the next frame's state inputs.
   */
  private static final class PlainLoop implements AutoCloseable {
    private final OrtEnvironment environment = dev.bitsweep.eval.OrtRuntime.environment();
    private final OrtSession session;
    private final String outputName;
    private final List<ModelInput> states;
    private final Set<String> fetched = new LinkedHashSet<>();
    private final Set<Integer> sequenceStarts = new HashSet<>();
    /** Per group, its runs; per run, the arrays and shapes of the inputs fed from data or values. */
    private final List<List<Map<String, Object>>> groups = new ArrayList<>();
    private final List<List<Map<String, long[]>>> shapes = new ArrayList<>();
    private final List<List<Integer>> firstSamples = new ArrayList<>();

    PlainLoop(Path modelFile, List<ModelInput> inputs, Dataset data, List<int[]> groupRanges, int threads)
        throws OrtException {
      try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.addConfigEntry("session.disable_quant_qdq", "1");
        session = environment.createSession(modelFile.toString(), options);
      }
      outputName = session.getOutputNames().iterator().next();
      states = inputs.stream().filter(i -> i.feed().kind() == InputFeed.Kind.STATE).toList();
      fetched.add(outputName);
      states.forEach(s -> fetched.add(s.feed().stateOutput()));
      Arrays.stream(data.sequenceStarts()).forEach(sequenceStarts::add);
      int step = !states.isEmpty() ? 1 : data.fixedBatch() > 0 ? data.fixedBatch() : Integer.MAX_VALUE;
      for (int[] range : groupRanges) {
        List<Map<String, Object>> runs = new ArrayList<>();
        List<Map<String, long[]>> runShapes = new ArrayList<>();
        List<Integer> firsts = new ArrayList<>();
        for (int from = range[0]; from < range[1]; from += Math.min(step, range[1] - from)) {
          int to = (int) Math.min(range[1], (long) from + step);
          Map<String, Object> arrays = new HashMap<>();
          Map<String, long[]> runShape = new HashMap<>();
          for (ModelInput input : inputs) {
            if (input.feed().kind() == InputFeed.Kind.VALUE) {
              runShape.put(input.name(), input.shape());
              arrays.put(input.name(), constant(input));
            } else if (input.feed().fromFile()) {
              NpyArray array = data.inputs().get(input.name());
              int axis = data.batchAxis(input.name());
              long[] fileShape = array.shape();
              long[] shape = new long[fileShape.length];
              for (int i = 0, rest = 1; i < shape.length; i++) {
                shape[i] = i == axis ? to - from : fileShape[rest++];
              }
              runShape.put(input.name(), shape);
              Object sliced = switch (array.dtype()) {
                case "float32" -> array.floats(from, to);
                case "int32" -> Arrays.stream(array.longs(from, to)).mapToInt(v -> (int) v).toArray();
                default -> array.longs(from, to);
              };
              arrays.put(input.name(), axis == 0 ? sliced : moveSamples(sliced, to - from, shape, axis));
            }
          }
          runs.add(arrays);
          runShapes.add(runShape);
          firsts.add(from);
        }
        groups.add(runs);
        shapes.add(runShapes);
        firstSamples.add(firsts);
      }
    }

    private static Object constant(ModelInput input) {
      int count = (int) Arrays.stream(input.shape()).reduce(1, (a, b) -> a * b);
      double value = input.feed().value();
      return switch (input.npyDtype()) {
        case "float32" -> {
          float[] values = new float[count];
          Arrays.fill(values, (float) value);
          yield values;
        }
        case "int32" -> {
          int[] values = new int[count];
          Arrays.fill(values, (int) value);
          yield values;
        }
        case "int64" -> {
          long[] values = new long[count];
          Arrays.fill(values, (long) value);
          yield values;
        }
        default -> throw new IllegalArgumentException("the benchmark's plain loop feeds float32, int32 and int64 "
            + "values; input '" + input.name() + "' is " + input.npyDtype());
      };
    }

    /** Samples-first values [n, rest...] laid out with the samples on model axis {@code axis} of {@code shape}. */
    private static Object moveSamples(Object values, int n, long[] shape, int axis) {
      int outer = 1;
      for (int i = 0; i < axis; i++) {
        outer *= (int) shape[i];
      }
      int inner = 1;
      for (int i = axis + 1; i < shape.length; i++) {
        inner *= (int) shape[i];
      }
      int length = java.lang.reflect.Array.getLength(values);
      Object moved = java.lang.reflect.Array.newInstance(values.getClass().getComponentType(), length);
      for (int s = 0; s < n; s++) {
        for (int o = 0; o < outer; o++) {
          System.arraycopy(values, (s * outer + o) * inner, moved, (o * n + s) * inner, inner);
        }
      }
      return moved;
    }

    /** One pass over all groups; returns the last group's output, its runs' outputs one after another. */
    float[] pass() throws OrtException {
      List<float[]> last = new ArrayList<>();
      Map<String, float[]> carried = new HashMap<>();
      for (int g = 0; g < groups.size(); g++) {
        last.clear();
        for (int r = 0; r < groups.get(g).size(); r++) {
          if (!states.isEmpty() && sequenceStarts.contains(firstSamples.get(g).get(r))) {
            for (ModelInput state : states) {
              carried.put(state.name(), initialState(state));
            }
          }
          Map<String, OnnxTensor> feeds = new HashMap<>();
          try {
            for (Map.Entry<String, Object> entry : groups.get(g).get(r).entrySet()) {
              feeds.put(entry.getKey(), tensor(entry.getValue(), shapes.get(g).get(r).get(entry.getKey())));
            }
            for (ModelInput state : states) {
              feeds.put(state.name(), tensor(carried.get(state.name()), InputLayout.stateShape(state)));
            }
            try (OrtSession.Result result = session.run(feeds, fetched)) {
              last.add(floats(result, outputName));
              for (ModelInput state : states) {
                carried.put(state.name(), floats(result, state.feed().stateOutput()));
              }
            }
          } finally {
            feeds.values().forEach(OnnxTensor::close);
          }
        }
      }
      int total = last.stream().mapToInt(v -> v.length).sum();
      float[] joined = new float[total];
      int offset = 0;
      for (float[] values : last) {
        System.arraycopy(values, 0, joined, offset, values.length);
        offset += values.length;
      }
      return joined;
    }

    private float[] initialState(ModelInput state) {
      if (state.feed().initialFile() == null) {
        return new float[(int) Arrays.stream(InputLayout.stateShape(state)).reduce(1, (a, b) -> a * b)];
      }
      NpyArray initial = NpyArray.read(Path.of(state.feed().initialFile()), "float32");
      return initial.floats(0, initial.samples());
    }

    private OnnxTensor tensor(Object array, long[] shape) throws OrtException {
      return array instanceof float[] f ? OnnxTensor.createTensor(environment, FloatBuffer.wrap(f), shape)
          : array instanceof int[] i ? OnnxTensor.createTensor(environment, IntBuffer.wrap(i), shape)
          : OnnxTensor.createTensor(environment, LongBuffer.wrap((long[]) array), shape);
    }

    private static float[] floats(OrtSession.Result result, String name) {
      FloatBuffer buffer = ((OnnxTensor) result.get(name).orElseThrow()).getFloatBuffer();
      float[] values = new float[buffer.remaining()];
      buffer.get(values);
      return values;
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
