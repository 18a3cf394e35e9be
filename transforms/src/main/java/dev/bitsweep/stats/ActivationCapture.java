package dev.bitsweep.stats;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.calibrate.Im2col;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a model on calibration samples and turns the input activations of the selected layers into their partial
 * {@link LayerStatistics}: the activation tensors become extra graph outputs (name-only ValueInfoProtos), one ONNX
 * Runtime session computes them all, and each layer's rows go into a {@link HessianAccumulator}.
 *
 * <p>Rows: MatMul, one per position of the activation's leading axes (its last axis is the weight's input
 * dimension); Gemm, the rows of A (of Aᵀ with transA); Conv, the im2col patches per group. Padding tokens do not
 * count: when the model has a rank-2 input {@code attention_mask} and an activation is [batch, sequence, dim] with the
 * mask's batch and sequence sizes, positions where the mask is 0 are left out (they are not real inputs, and
 * sentence models ignore their outputs).
 *
 * <p>Inputs of nodes inside If branches and Loop/Scan bodies are threaded out of their subgraphs
 * ({@link SubgraphTaps}): a branch counts only on the samples where it ran, a loop body once per iteration.
 *
 * <p>The session runs at ORT's basic optimization level (constant folding only): a captured tensor stays the
 * input of its node in the original graph.
 */
public final class ActivationCapture implements AutoCloseable {
  static final String ATTENTION_MASK = "attention_mask";

  private final OrtSession session;
  private final List<ModelInput> inputs;
  private final List<Layer> layers;
  private final CapturePlan plan;
  private final Set<String> graphInputs;
  private final Set<String> fetched;
  private final Map<CaptureSite, SubgraphTaps.Tap> taps;

  private ActivationCapture(OrtSession session, List<ModelInput> inputs, List<Layer> layers, CapturePlan plan,
      Set<String> graphInputs, Set<String> fetched, Map<CaptureSite, SubgraphTaps.Tap> taps) {
    this.session = session;
    this.inputs = inputs;
    this.layers = layers;
    this.plan = plan;
    this.graphInputs = graphInputs;
    this.fetched = fetched;
    this.taps = taps;
  }

  /**
   * A capture session for {@code layers}, which must all have capture sites in {@code plan} (see
   * {@link CapturePlan#unsupported()}).
   */
  public static ActivationCapture open(OnnxModel model, List<Layer> layers, CapturePlan plan) {
    List<ModelInput> inputs = ModelInput.of(model.proto());
    Set<String> graphInputs = new HashSet<>();
    inputs.forEach(i -> graphInputs.add(i.name()));
    Set<String> outputs = new HashSet<>();
    model.proto().getGraph().getOutputList().forEach(o -> outputs.add(o.getName()));
    Set<String> fetched = new LinkedHashSet<>();
    Onnx.GraphProto.Builder graph = model.proto().getGraph().toBuilder();
    SubgraphTaps subgraphTaps = new SubgraphTaps(model.proto().getGraph(), graph);
    Map<CaptureSite, SubgraphTaps.Tap> taps = new LinkedHashMap<>();
    for (Layer layer : layers) {
      List<CaptureSite> sites = plan.sites().get(layer.name());
      if (sites == null) {
        throw new IllegalArgumentException("layer " + layer.name() + " has no activation to capture: "
            + plan.unsupported().get(layer.name()));
      }
      for (CaptureSite site : sites) {
        if (!site.graphPath().isEmpty()) {
          SubgraphTaps.Tap tap = subgraphTaps.tap(site.graphPath(), site.activation());
          taps.put(site, tap);
          fetched.add(tap.values());
          fetched.add(tap.shape());
          continue;
        }
        String name = site.activation();
        if (!graphInputs.contains(name) && fetched.add(name) && !outputs.contains(name)) {
          graph.addOutput(Onnx.ValueInfoProto.newBuilder().setName(name));
        }
      }
    }
    byte[] bytes = model.proto().toBuilder().setGraph(graph).build().toByteArray();
    try {
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      OrtSession session = usesExternalData(model.proto().getGraph())
          ? sessionBesideTheModel(model, bytes, options)
          : OrtEnvironment.getEnvironment().createSession(bytes, options);
      return new ActivationCapture(session, inputs, List.copyOf(layers), plan, graphInputs, fetched, taps);
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime cannot load " + model.path() + " with its layer inputs as extra outputs: "
          + e.getMessage(), e);
    }
  }

  private static boolean usesExternalData(Onnx.GraphProto graph) {
    return graph.getInitializerList().stream().anyMatch(t -> t.getExternalDataCount() > 0);
  }

  /**
   * ONNX Runtime resolves external data relative to the model file only when opened by path: the capture model is
   * written next to the original for the moment the session loads, then removed.
   */
  private static OrtSession sessionBesideTheModel(OnnxModel model, byte[] bytes, OrtSession.SessionOptions options)
      throws OrtException {
    Path temp = null;
    try {
      temp = Files.createTempFile(model.directory(), ".bitsweep-capture-", ".onnx");
      Files.write(temp, bytes);
      return OrtEnvironment.getEnvironment().createSession(temp.toString(), options);
    } catch (IOException e) {
      throw new ModelException("cannot write the activation-capture copy of " + model.path() + " beside it ("
          + e.getMessage() + "); its external data is resolved relative to that directory, which must be writable",
          e);
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException ignored) {
          // a leftover hidden temp file is harmless
        }
      }
    }
  }

  /** Every layer's partial statistics over samples [from, to) of {@code data}, keyed by layer name. */
  public Map<String, LayerStatistics> run(Dataset data, int from, int to) {
    Map<String, HessianAccumulator> sums = new LinkedHashMap<>();
    for (Layer layer : layers) {
      sums.put(layer.name(), new HessianAccumulator(layer.name(), layer.cols(), plan.groups(layer.name())));
    }
    long fixedBatch = inputs.isEmpty() ? -1 : inputs.get(0).fixedBatch();
    int step = fixedBatch > 0 ? (int) fixedBatch : to - from;
    for (int start = from; start < to; start += step) {
      runOnce(data, start, Math.min(to, start + step), sums);
    }
    Map<String, LayerStatistics> statistics = new LinkedHashMap<>();
    sums.forEach((name, sum) -> statistics.put(name, sum.toStatistics()));
    return statistics;
  }

  private void runOnce(Dataset data, int from, int to, Map<String, HessianAccumulator> sums) {
    Map<String, OnnxTensor> feeds = ModelRunner.feeds(inputs, data, from, to);
    // ONNX Runtime needs at least one output to run: when every activation is a graph input, fetch the first output.
    Set<String> requested = fetched.isEmpty() ? Set.of(firstOutput()) : fetched;
    try (OrtSession.Result result = session.run(feeds, requested)) {
      Map<String, Activation> activations = new LinkedHashMap<>();
      for (String name : fetched) {
        activations.put(name, Activation.of(name, (OnnxTensor) result.get(name).orElseThrow()));
      }
      for (String name : graphInputs) {
        OnnxTensor fed = feeds.get(name);
        if (fed != null && fed.getFloatBuffer() != null) {
          activations.put(name, Activation.of(name, fed));
        }
      }
      long[][] mask = attentionMask(feeds);
      for (Layer layer : layers) {
        for (CaptureSite site : plan.sites().get(layer.name())) {
          SubgraphTaps.Tap tap = taps.get(site);
          if (tap != null) {
            for (Activation activation : instances(layer, site, result, tap)) {
              accumulate(layer, site, activation, mask, sums.get(layer.name()));
            }
            continue;
          }
          Activation activation = activations.get(site.activation());
          if (activation == null) {
            throw new ModelException("layer " + layer.name() + ": its input " + site.activation()
                + " is not a float tensor, so it has no Hessian");
          }
          accumulate(layer, site, activation, mask, sums.get(layer.name()));
        }
      }
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime failed capturing layer inputs on calibration samples " + from + ".."
          + to + ": " + e.getMessage(), e);
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  /**
   * The values a subgraph node saw on this run: one per iteration of its enclosing loops, none when its If branch
   * did not run (see {@link SubgraphTaps}).
   */
  private static List<Activation> instances(Layer layer, CaptureSite site, OrtSession.Result result,
      SubgraphTaps.Tap tap) {
    OnnxTensor valuesTensor = (OnnxTensor) result.get(tap.values()).orElseThrow();
    OnnxTensor shapeTensor = (OnnxTensor) result.get(tap.shape()).orElseThrow();
    FloatBuffer valuesBuffer = valuesTensor.getFloatBuffer();
    if (valuesBuffer == null) {
      throw new ModelException("layer " + layer.name() + ": its input " + site.activation() + " (in subgraph "
          + site.graphPath() + ") is not a float tensor, so it has no Hessian");
    }
    long[] valuesShape = valuesTensor.getInfo().getShape();
    long[] shapesShape = shapeTensor.getInfo().getShape();
    int size = (int) valuesShape[valuesShape.length - 1];
    int rank = (int) shapesShape[shapesShape.length - 1];
    float[] values = new float[valuesBuffer.remaining()];
    valuesBuffer.get(values);
    long[] shapes = new long[shapeTensor.getLongBuffer().remaining()];
    shapeTensor.getLongBuffer().get(shapes);
    List<Activation> instances = new ArrayList<>();
    if (rank == 0) {
      return instances;
    }
    for (int i = 0; i < shapes.length / rank; i++) {
      long[] shape = Arrays.copyOfRange(shapes, i * rank, (i + 1) * rank);
      if (Arrays.stream(shape).reduce(1, Math::multiplyExact) != size) {
        throw new IllegalStateException("tap of " + site.activation() + ": shape " + Arrays.toString(shape)
            + " does not hold " + size + " values");
      }
      instances.add(new Activation(Arrays.copyOfRange(values, i * size, (i + 1) * size), shape));
    }
    return instances;
  }

  private String firstOutput() {
    return session.getOutputNames().iterator().next();
  }

  /** The attention mask as [batch][sequence], or null when the model has none. */
  private static long[][] attentionMask(Map<String, OnnxTensor> feeds) {
    OnnxTensor tensor = feeds.get(ATTENTION_MASK);
    if (tensor == null) {
      return null;
    }
    long[] shape = tensor.getInfo().getShape();
    LongBuffer buffer = tensor.getLongBuffer();
    if (shape.length != 2 || buffer == null) {
      return null;
    }
    long[][] mask = new long[(int) shape[0]][(int) shape[1]];
    for (long[] row : mask) {
      buffer.get(row);
    }
    return mask;
  }

  static void accumulate(Layer layer, CaptureSite site, Activation activation, long[][] mask, HessianAccumulator sum) {
    long[] shape = activation.shape();
    float[] values = activation.values();
    switch (site.kind()) {
      case MATMUL -> {
        int dim = (int) shape[shape.length - 1];
        requireDim(layer, site, shape, dim);
        if (mask != null && shape.length == 3 && shape[0] == mask.length && shape[1] == mask[0].length) {
          values = keepMasked(values, mask, dim);
        }
        sum.addRows(values, values.length / dim);
      }
      case GEMM -> {
        if (shape.length != 2) {
          throw new ModelException("layer " + layer.name() + ": Gemm input " + site.activation() + " has shape "
              + Arrays.toString(shape) + ", expected 2-D");
        }
        int dim = (int) (site.transposed() ? shape[0] : shape[1]);
        requireDim(layer, site, shape, dim);
        sum.addRows(site.transposed() ? transpose(values, (int) shape[0], (int) shape[1]) : values,
            values.length / dim);
      }
      case CONV -> {
        int expectedRank = site.oneDimensional() ? 3 : 4;
        if (shape.length != expectedRank) {
          throw new ModelException("layer " + layer.name() + ": Conv input " + site.activation() + " has shape "
              + Arrays.toString(shape) + ", expected rank " + expectedRank);
        }
        int[] nchw = site.oneDimensional()
            ? new int[] {(int) shape[0], (int) shape[1], 1, (int) shape[2]}
            : new int[] {(int) shape[0], (int) shape[1], (int) shape[2], (int) shape[3]};
        Im2col.Geometry geometry = site.geometryFor(nchw[2], nchw[3]);
        sum.addConvInput(values, nchw, geometry);
      }
      default -> throw new IllegalStateException(site.kind().toString());
    }
  }

  private static void requireDim(Layer layer, CaptureSite site, long[] shape, int dim) {
    if (dim != layer.cols()) {
      throw new ModelException("layer " + layer.name() + " " + layer.shapeText() + " has " + layer.cols()
          + " inputs per output channel, but its input activation " + site.activation() + " has shape "
          + Arrays.toString(shape));
    }
  }

  /** The rows of a [batch, sequence, dim] activation whose attention mask is not 0. */
  private static float[] keepMasked(float[] values, long[][] mask, int dim) {
    int sequence = mask[0].length;
    int count = 0;
    float[] out = new float[values.length];
    for (int b = 0; b < mask.length; b++) {
      for (int s = 0; s < sequence; s++) {
        if (mask[b][s] != 0) {
          System.arraycopy(values, (b * sequence + s) * dim, out, count * dim, dim);
          count++;
        }
      }
    }
    return Arrays.copyOf(out, count * dim);
  }

  private static float[] transpose(float[] values, int rows, int cols) {
    float[] out = new float[values.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[c * rows + r] = values[r * cols + c];
      }
    }
    return out;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A captured float tensor. */
  record Activation(float[] values, long[] shape) {
    static Activation of(String name, OnnxTensor tensor) {
      long[] shape = ((TensorInfo) tensor.getInfo()).getShape();
      FloatBuffer buffer = tensor.getFloatBuffer();
      if (buffer == null) {
        return null;
      }
      float[] values = new float[buffer.remaining()];
      buffer.get(values);
      return new Activation(values, shape);
    }
  }
}
