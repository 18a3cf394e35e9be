package dev.bitsweep.eval;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.onnx.ModelException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.IntBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a model with ONNX Runtime on samples of a dataset and returns its first output.
 * Sessions are opened by path (so external data resolves) with weight-only DequantizeLinear kept exact.
 */
public final class ModelRunner implements AutoCloseable {
  /** How results were measured; recorded with every run. */
  public static final String RUNTIME = "onnxruntime-java " + runtimeVersion();
  public static final String SETTINGS = "graph_optimization_level=ALL_OPT; session.disable_quant_qdq=1; intra_op_threads=1";

  private final OrtSession session;
  private final List<ModelInput> inputs;
  private final String outputName;
  private final int intraOpThreads;
  private final long sessionNanos;
  private long runNanos;
  private long runSamples;

  private ModelRunner(OrtSession session, List<ModelInput> inputs, String outputName, int intraOpThreads,
      long sessionNanos) {
    this.session = session;
    this.inputs = inputs;
    this.outputName = outputName;
    this.intraOpThreads = intraOpThreads;
    this.sessionNanos = sessionNanos;
  }

  /** A session with one intra-op thread ({@link #SETTINGS}). */
  public static ModelRunner open(Path modelFile, List<ModelInput> inputs) {
    return open(modelFile, inputs, 1);
  }

  /**
   * A session whose operators use {@code intraOpThreads} threads (the caller's share of the cores; inter-op
   * parallelism stays 1, operators run one after another).
   */
  public static ModelRunner open(Path modelFile, List<ModelInput> inputs, int intraOpThreads) {
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException("intra-op threads must be >= 1, got " + intraOpThreads);
    }
    long start = System.nanoTime();
    try {
      OrtEnvironment environment = OrtEnvironment.getEnvironment();
      OrtSession.SessionOptions options = sessionOptions(intraOpThreads);
      OrtSession session = environment.createSession(modelFile.toString(), options);
      String output = session.getOutputNames().iterator().next();
      return new ModelRunner(session, inputs, output, intraOpThreads, System.nanoTime() - start);
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime cannot load " + modelFile + ": " + e.getMessage(), e);
    }
  }

  /** The options every bitsweep session is made with; also what the evaluation benchmark's plain loop uses. */
  public static OrtSession.SessionOptions sessionOptions(int intraOpThreads) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    options.setIntraOpNumThreads(intraOpThreads);
    options.setInterOpNumThreads(1);
    options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
    options.addConfigEntry("session.disable_quant_qdq", "1");
    return options;
  }

  public int intraOpThreads() {
    return intraOpThreads;
  }

  /** {@link #SETTINGS} with this session's intra-op thread count. */
  public String settings() {
    return SETTINGS.replace("intra_op_threads=1", "intra_op_threads=" + intraOpThreads);
  }

  /** Wall seconds spent creating the session (loading, optimising the graph). */
  public double sessionSeconds() {
    return sessionNanos / 1e9;
  }

  /** Wall seconds spent in {@link #run} so far (inputs to tensors, inference, outputs read back). */
  public synchronized double runSeconds() {
    return runNanos / 1e9;
  }

  /** Samples run so far. */
  public synchronized long runSamples() {
    return runSamples;
  }

  /**
   * The first output's values and shape for samples [from, to), run as the inputs' layout says
   * ({@link OrtSessions#runEach}: frame by frame carrying state, or in runs of the model's fixed batch).
   */
  public Output run(Dataset data, int from, int to) {
    long start = System.nanoTime();
    try {
      List<Output> parts = OrtSessions.runEach(session, inputs, data, from, to, Set.of(outputName),
          (first, end) -> "on samples " + first + ".." + end, (feeds, result) ->
              floatOutput(result.get(outputName).orElseThrow(), outputName));
      return parts.size() == 1 ? parts.get(0) : Output.concat(parts);
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
   * their .npy dtype (float32, float16, int64, int32), on their batch axis; value inputs as their constant.
   */
  public static Map<String, OnnxTensor> feeds(List<ModelInput> inputs, Dataset data, int from, int to) {
    return InputFeeder.feeds(inputs, data, from, to, null);
  }

  static Output floatOutput(OnnxValue value, String name) throws OrtException {
    OnnxTensor tensor = (OnnxTensor) value;
    long[] shape = ((TensorInfo) tensor.getInfo()).getShape();
    FloatBuffer buffer = tensor.getFloatBuffer();
    if (buffer == null) {
      throw new ModelException("output '" + name + "' is not a float tensor; bitsweep compares float outputs");
    }
    float[] values = new float[buffer.remaining()];
    buffer.get(values);
    return new Output(values, shape);
  }

  public String outputName() {
    return outputName;
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
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String runtimeVersion() {
    try {
      return OrtEnvironment.getEnvironment().getVersion();
    } catch (RuntimeException | LinkageError e) {
      return "1.29.0";
    }
  }

  /** A model output: values in row-major order and the shape. */
  public record Output(float[] values, long[] shape) {
    public static Output concat(List<Output> parts) {
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
