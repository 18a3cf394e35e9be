package dev.bitsweep.eval;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.onnx.ModelException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one way bitsweep runs a model to evaluate it: an ONNX Runtime session on a model file (opened by path, so
 * external data resolves) under {@link SessionSettings} with a number of intra-op threads, and the named float
 * outputs of a batch of samples. Session creation and running are timed apart.
 *
 * <p>A batch is samples [from, to) of a {@link Dataset}; how its inputs become tensors ({@link InputFeeder}) and how
 * a batch is cut into runs (one, the model's fixed batch, or frames carrying state) is {@link OrtSessions#runEach},
 * shared with calibration capture.
 */
public final class ModelRunner implements AutoCloseable {
  /** How results were measured; recorded with every run. */
  public static final String RUNTIME = "onnxruntime-java " + runtimeVersion();
  /** The settings of a weight-only package's one-thread session ({@link SessionSettings#QDQ_DISABLED}). */
  public static final String SETTINGS = SessionSettings.QDQ_DISABLED.text();

  private final OrtSession session;
  private final Path file;
  private final List<ModelInput> inputs;
  private final List<String> outputs;
  private final SessionSettings sessionSettings;
  private final int intraOpThreads;
  private final long sessionNanos;
  private long runNanos;
  private long runSamples;

  private ModelRunner(OrtSession session, Path file, List<ModelInput> inputs, List<String> outputs,
      SessionSettings sessionSettings, int intraOpThreads, long sessionNanos) {
    this.session = session;
    this.file = file;
    this.inputs = inputs;
    this.outputs = outputs;
    this.sessionSettings = sessionSettings;
    this.intraOpThreads = intraOpThreads;
    this.sessionNanos = sessionNanos;
  }

  /** The first output, weight DequantizeLinear kept exact, one intra-op thread. */
  public static ModelRunner open(Path modelFile, List<ModelInput> inputs) {
    return open(modelFile, inputs, 1);
  }

  /** The first output, weight DequantizeLinear kept exact, {@code intraOpThreads} threads (the caller's cores). */
  public static ModelRunner open(Path modelFile, List<ModelInput> inputs, int intraOpThreads) {
    return open(modelFile, inputs, Set.of(), SessionSettings.QDQ_DISABLED, intraOpThreads);
  }

  /**
   * A session for {@code outputs} (in their order; empty: the model's first output) under {@code settings} with
   * {@code intraOpThreads} intra-op threads. An output the model does not have is a {@link ModelException}.
   */
  public static ModelRunner open(Path modelFile, List<ModelInput> inputs, Set<String> outputs,
      SessionSettings settings, int intraOpThreads) {
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException("intra-op threads must be >= 1, got " + intraOpThreads);
    }
    long start = System.nanoTime();
    OrtSession session = null;
    try {
      OrtEnvironment environment = OrtRuntime.environment();
      try (OrtSession.SessionOptions options = settings.options(intraOpThreads)) {
        session = environment.createSession(modelFile.toString(), options);
      }
      Set<String> names = session.getOutputNames();
      List<String> fetched = outputs.isEmpty() ? List.of(names.iterator().next()) : List.copyOf(outputs);
      for (String output : fetched) {
        if (!names.contains(output)) {
          throw new ModelException("the metric reads output '" + output + "' but " + modelFile + " has outputs "
              + names + ": name one of them in the task's output field");
        }
      }
      return new ModelRunner(session, modelFile, inputs, fetched, settings, intraOpThreads,
          System.nanoTime() - start);
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime cannot load " + modelFile + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      if (session != null) {
        OrtSessions.close(session);
      }
      throw e;
    }
  }

  /** The options of a weight-only package's session; also what the evaluation benchmark's plain loop uses. */
  public static OrtSession.SessionOptions sessionOptions(int intraOpThreads) throws OrtException {
    return SessionSettings.QDQ_DISABLED.options(intraOpThreads);
  }

  public int intraOpThreads() {
    return intraOpThreads;
  }

  /** This session's settings as recorded with results (with its intra-op thread count). */
  public String settings() {
    return sessionSettings.text(intraOpThreads);
  }

  /** {@link #SETTINGS} of a session with {@code intraOpThreads} intra-op threads. */
  public static String settings(int intraOpThreads) {
    return SessionSettings.QDQ_DISABLED.text(intraOpThreads);
  }

  /** Wall seconds spent creating the session (loading, optimising the graph). */
  public double sessionSeconds() {
    return sessionNanos / 1e9;
  }

  /** Wall seconds spent in {@link #run} / {@link #runAll} so far (inputs to tensors, inference, outputs read). */
  public synchronized double runSeconds() {
    return runNanos / 1e9;
  }

  /** Samples run so far. */
  public synchronized long runSamples() {
    return runSamples;
  }

  /** The first fetched output's values and shape for samples [from, to). */
  public Output run(Dataset data, int from, int to) {
    return runAll(data, from, to).get(outputs.get(0));
  }

  /**
   * Every fetched output of samples [from, to), by name, in the order they were asked for; run as the inputs' layout
   * says ({@link OrtSessions#runEach}: frame by frame carrying state, or in runs of the model's fixed batch).
   */
  public Map<String, Output> runAll(Dataset data, int from, int to) {
    long start = System.nanoTime();
    try {
      List<Map<String, Output>> runs = OrtSessions.runEach(session, inputs, data, from, to,
          new LinkedHashSet<>(outputs), (first, end) -> "on samples " + first + ".." + end + " of " + file,
          (feeds, result) -> {
            Map<String, Output> out = new LinkedHashMap<>();
            for (String name : outputs) {
              OnnxTensor tensor = (OnnxTensor) result.get(name).orElseThrow();
              float[] values = OrtSessions.floats(tensor);
              if (values == null) {
                throw new ModelException("output '" + name + "' of " + file + " is not a float tensor; bitsweep "
                    + "compares float outputs");
              }
              out.put(name, new Output(values, ((TensorInfo) tensor.getInfo()).getShape()));
            }
            return out;
          });
      if (runs.size() == 1) {
        return runs.get(0);
      }
      Map<String, Output> joined = new LinkedHashMap<>();
      for (String name : outputs) {
        joined.put(name, Output.concat(runs.stream().map(run -> run.get(name)).toList()));
      }
      return joined;
    } finally {
      long elapsed = System.nanoTime() - start;
      synchronized (this) {
        runNanos += elapsed;
        runSamples += to - from;
      }
    }
  }

  /**
   * ONNX Runtime tensors of samples [from, to) for every model input; the caller closes them. Inputs are fed as
   * their .npy dtype (float32, float16, int64, int32), on their batch axis; value inputs as their constant; state
   * inputs only through {@link OrtSessions#runEach}.
   */
  public static Map<String, OnnxTensor> feeds(List<ModelInput> inputs, Dataset data, int from, int to) {
    return InputFeeder.feeds(inputs, data, from, to, null);
  }

  /** The first fetched output's name. */
  public String outputName() {
    return outputs.get(0);
  }

  public Map<String, NodeInfo> inputInfo() {
    try {
      return session.getInputInfo();
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    OrtSessions.close(session);
  }

  private static String runtimeVersion() {
    try {
      return OrtRuntime.environment().getVersion();
    } catch (RuntimeException | LinkageError e) {
      return "1.29.0";
    }
  }

  /** A model output: values in row-major order and the shape. */
  public record Output(float[] values, long[] shape) {
    public static Output concat(List<Output> parts) {
      if (parts.size() == 1) {
        return parts.get(0);
      }
      int total = parts.stream().mapToInt(p -> p.values.length).sum();
      float[] values = new float[total];
      int offset = 0;
      long samples = 0;
      for (Output part : parts) {
        System.arraycopy(part.values, 0, values, offset, part.values.length);
        offset += part.values.length;
        samples += part.shape[0];
      }
      long[] shape = parts.get(0).shape.clone();
      shape[0] = samples;
      return new Output(values, shape);
    }
  }
}
