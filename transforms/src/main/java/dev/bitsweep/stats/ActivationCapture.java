package dev.bitsweep.stats;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.calibrate.Im2col;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ExtraOutputs;
import dev.bitsweep.eval.OrtSessions;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a model on calibration samples and turns the input activations of the selected layers into their partial
 * {@link LayerStatistics}: the activation tensors become extra graph outputs ({@link ExtraOutputs}), one ONNX
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
    return open(model, layers, plan, ModelInput.of(model.proto()));
  }

  /** As {@link #open(OnnxModel, List, CapturePlan)}, feeding {@code inputs} as laid out (values, batch axes, states). */
  public static ActivationCapture open(OnnxModel model, List<Layer> layers, CapturePlan plan,
      List<ModelInput> inputs) {
    ExtraOutputs copy = new ExtraOutputs(model, inputs);
    SubgraphTaps subgraphTaps = new SubgraphTaps(model.proto().getGraph(), copy.graph());
    Map<CaptureSite, SubgraphTaps.Tap> taps = new LinkedHashMap<>();
    for (Layer layer : layers) {
      List<CaptureSite> sites = plan.sites().get(layer.name());
      if (sites == null) {
        throw new IllegalArgumentException("layer " + layer.name() + " has no activation to capture: "
            + plan.unsupported().get(layer.name()));
      }
      for (CaptureSite site : sites) {
        if (site.graphPath().isEmpty()) {
          copy.fetch(site.activation());
          continue;
        }
        SubgraphTaps.Tap tap = subgraphTaps.tap(site.graphPath(), site.activation());
        taps.put(site, tap);
        copy.fetchAdded(tap.values());
        copy.fetchAdded(tap.shape());
      }
    }
    OrtSession session = copy.open("its layer inputs as extra outputs", ".bitsweep-capture-");
    return new ActivationCapture(session, copy.inputs(), List.copyOf(layers), plan, copy.graphInputs(),
        copy.fetched(), taps);
  }

  /** Every layer's partial statistics over samples [from, to) of {@code data}, keyed by layer name. */
  public Map<String, LayerStatistics> run(Dataset data, int from, int to) {
    Map<String, HessianAccumulator> sums = new LinkedHashMap<>();
    for (Layer layer : layers) {
      sums.put(layer.name(), new HessianAccumulator(layer.name(), layer.cols(), plan.groups(layer.name())));
    }
    // ONNX Runtime needs at least one output to run: when every activation is a graph input, fetch the first output.
    Set<String> requested = fetched.isEmpty() ? Set.of(firstOutput()) : fetched;
    OrtSessions.runEach(session, inputs, data, from, to, requested,
        (first, end) -> "capturing layer inputs on calibration samples " + first + ".." + end, (feeds, result) -> {
          addRun(feeds, result, sums);
          return null;
        });
    Map<String, LayerStatistics> statistics = new LinkedHashMap<>();
    sums.forEach((name, sum) -> statistics.put(name, sum.toStatistics()));
    return statistics;
  }

  /** Adds one run's activations (fetched or fed) to every layer's sum. */
  private void addRun(Map<String, OnnxTensor> feeds, OrtSession.Result result, Map<String, HessianAccumulator> sums) {
    Map<String, Activation> activations = new LinkedHashMap<>();
    for (String name : fetched) {
      activations.put(name, Activation.of(name, (OnnxTensor) result.get(name).orElseThrow()));
    }
    for (String name : graphInputs) {
      OnnxTensor fed = feeds.get(name);
      Activation activation = fed == null ? null : Activation.of(name, fed);
      if (activation != null) {
        activations.put(name, activation);
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
  }

  /**
   * The values a subgraph node saw on this run: one per iteration of its enclosing loops, none when its If branch
   * did not run (see {@link SubgraphTaps}).
   */
  private static List<Activation> instances(Layer layer, CaptureSite site, OrtSession.Result result,
      SubgraphTaps.Tap tap) {
    OnnxTensor valuesTensor = (OnnxTensor) result.get(tap.values()).orElseThrow();
    OnnxTensor shapeTensor = (OnnxTensor) result.get(tap.shape()).orElseThrow();
    float[] values = OrtSessions.floats(valuesTensor);
    if (values == null) {
      throw new ModelException("layer " + layer.name() + ": its input " + site.activation() + " (in subgraph "
          + site.graphPath() + ") is not a float tensor, so it has no Hessian");
    }
    long[] valuesShape = valuesTensor.getInfo().getShape();
    long[] shapesShape = shapeTensor.getInfo().getShape();
    int size = (int) valuesShape[valuesShape.length - 1];
    int rank = (int) shapesShape[shapesShape.length - 1];
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
    OrtSessions.close(session);
  }

  /** A captured float tensor. */
  record Activation(float[] values, long[] shape) {
    static Activation of(String name, OnnxTensor tensor) {
      float[] values = OrtSessions.floats(tensor);
      return values == null ? null : new Activation(values, ((TensorInfo) tensor.getInfo()).getShape());
    }
  }
}
