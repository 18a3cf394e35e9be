package dev.bitsweep.onnx.encode;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.DenseWeights;
import dev.bitsweep.compress.Float16;
import dev.bitsweep.compress.PalettizedWeights;
import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.SparseWeights;
import com.google.protobuf.CodedOutputStream;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a compressed weight into an ONNX graph as standard ONNX: the weight tensor (an initializer, or the output
 * of a Constant node, of the given graph or subgraph) is replaced by encoded initializers and a decode subgraph
 * whose final output keeps the weight's name and dtype, so its consumers are untouched.
 *
 * <p>The decode is valid at the model's own default-domain opset, which is never changed: each step uses the
 * preferred op where that opset has it and an exact equivalent from older ops where it does not (see
 * {@link EncodingCatalog}). ONNX Runtime decodes it to exactly {@link CompressedWeights#decompress()} (rounded to
 * the weight's dtype when that is float16/bfloat16), and folds the initializer-only subgraph into a dense constant
 * at session creation.
 */
public final class WeightEncoder {
  private final int opset;
  private final long irVersion;
  /** Names of the whole model this encoder edits, and every name it generated: new names avoid them all. */
  private final Set<String> modelNames = new HashSet<>();
  /** Per graph (by identity: the builder a caller passes for that graph), what its weights' decodes share. */
  private final Map<Onnx.GraphProto.Builder, SharedDecodeValues> shared = new IdentityHashMap<>();
  private int nextName;

  /**
   * @param opset the model's default-domain ("" / ai.onnx) opset version
   * @param irVersion the model's IR version: below 4, every initializer must also be a graph input
   */
  public WeightEncoder(int opset, long irVersion) {
    if (opset < 7) {
      throw new IllegalArgumentException("models below opset 7 are not supported (got opset " + opset
          + "); convert the model to opset 7 or newer first");
    }
    this.opset = opset;
    this.irVersion = irVersion;
  }

  /**
   * An encoder for this model's default-domain opset and IR version. Use one encoder for all weights of a model:
   * decodes in the same graph then share their constants and unpack tables, and generated names are unique in the
   * whole model.
   */
  public static WeightEncoder forModel(Onnx.ModelProtoOrBuilder model) {
    for (Onnx.OperatorSetIdProto id : model.getOpsetImportList()) {
      if (id.getDomain().isEmpty() || id.getDomain().equals("ai.onnx")) {
        WeightEncoder encoder = new WeightEncoder((int) id.getVersion(), model.getIrVersion());
        collectNames(model.getGraph(), encoder.modelNames);
        return encoder;
      }
    }
    throw new IllegalArgumentException("the model imports no default-domain opset; it cannot hold standard ONNX ops");
  }

  public int opset() {
    return opset;
  }

  /**
   * Replaces weight {@code tensorName} of {@code graph} by the encoding of {@code weights}.
   *
   * @param tensorShape the weight's own shape
   * @param outputAxis the axis of {@code tensorShape} that is the rows of the canonical layout
   * @param weights the compressed form, in canonical layout [shape[outputAxis], product of the other axes]
   */
  public EncodedLayer encode(Onnx.GraphProto.Builder graph, String tensorName, long[] tensorShape, int outputAxis,
      CompressedWeights weights) {
    return encode(graph, tensorName, tensorShape, outputAxis, weights, false);
  }

  /**
   * The same for a weight inside a subgraph ({@code If} branch, {@code Loop}/{@code Scan} body): the decode goes
   * into that subgraph. Differs from {@link #encode} only for IR 3 models, where subgraphs cannot hold initializers
   * (those must be graph inputs): the encoded tensors become Constant nodes, and below opset 9, where Constant holds
   * only float tensors, the weight is stored dense (exact; noted in the result).
   */
  public EncodedLayer encodeInSubgraph(Onnx.GraphProto.Builder subgraph, String tensorName, long[] tensorShape,
      int outputAxis, CompressedWeights weights) {
    return encode(subgraph, tensorName, tensorShape, outputAxis, weights, true);
  }

  private EncodedLayer encode(Onnx.GraphProto.Builder graph, String tensorName, long[] tensorShape, int outputAxis,
      CompressedWeights weights, boolean subgraph) {
    CanonicalLayout layout = new CanonicalLayout(tensorShape, outputAxis);
    if (layout.rows() != weights.rows() || layout.cols() != weights.cols()) {
      throw new IllegalArgumentException("layer " + tensorName + ": compressed weights are " + weights.rows() + "x"
          + weights.cols() + " but shape " + Arrays.toString(tensorShape) + " with output axis " + outputAxis
          + " is " + layout.rows() + "x" + layout.cols() + " in canonical layout");
    }
    WeightSlot slot = WeightSlot.find(graph, tensorName);
    slot.checkShape(tensorShape);
    int outputType = slot.dataType();
    if (outputType == DecodeGraph.BFLOAT16 && opset < 13) {
      throw new IllegalArgumentException("layer " + tensorName + " is bfloat16, which Cast supports only from opset 13 "
          + "(the model has opset " + opset + "); skip this layer or convert the model");
    }

    Set<String> inGraph = allNames(graph.build());
    SharedDecodeValues graphShared = shared.computeIfAbsent(graph, k -> new SharedDecodeValues());
    DecodeGraph g = new DecodeGraph(tensorName, opset, n -> inGraph.contains(n) || modelNames.contains(n),
        graphShared, inGraph::contains, nextName);
    String family = family(weights);
    if (weights instanceof SparseWeights s && !SparseLayout.supports(opset, (long) s.rows() * s.cols())) {
      g.note("opset " + opset + " has no CumSum and the float MatMul prefix sums are exact only up to 2^24 weights: "
          + "stored dense");
      weights = new DenseWeights(s.decompress());
    }
    boolean constantsOnly = irVersion < 4 && subgraph;
    if (constantsOnly && opset < 9 && !(weights instanceof DenseWeights)) {
      g.note("IR " + irVersion + " subgraph at opset " + opset + ": initializers are not allowed and Constant holds only "
          + "float tensors, so the weight is stored dense");
      weights = new DenseWeights(weights.decompress());
    }
    if (weights instanceof DenseWeights dense) {
      storeDense(g, layout, dense, outputType, tensorName);
    } else if (weights instanceof QuantizedWeights q && QuantizedDecode.dequantizesInPlace(opset, q, inPlace(layout))) {
      QuantizedDecode.validate(q, tensorName);
      String restored = QuantizedDecode.decodeAll(g, q, layout.shape());
      if (outputType != DecodeGraph.FLOAT) {
        g.use(outputType == DecodeGraph.FLOAT16 ? EncodingCatalog.CAST_FP16 : EncodingCatalog.CAST_BF16);
        restored = g.cast(restored, outputType);
      }
      g.renameOutput(restored, tensorName);
    } else {
      String canonical = decodeCanonical(g, weights, tensorName);
      String restored = restoreLayout(g, layout, canonical);
      if (outputType != DecodeGraph.FLOAT) {
        g.use(outputType == DecodeGraph.FLOAT16 ? EncodingCatalog.CAST_FP16 : EncodingCatalog.CAST_BF16);
        restored = g.cast(restored, outputType);
      }
      g.renameOutput(restored, tensorName);
    }
    g.prune(tensorName);

    slot.remove(graph);
    long storedBytes = 0;
    List<Onnx.NodeProto> nodes = new ArrayList<>();
    if (constantsOnly) {
      g.initializers().forEach(t -> nodes.add(constantNode(t)));
    } else {
      for (Onnx.TensorProto t : g.initializers()) {
        graph.addInitializer(t);
        storedBytes += CodedOutputStream.computeMessageSize(Onnx.GraphProto.INITIALIZER_FIELD_NUMBER, t);
        if (irVersion < 4) {
          // IR 3 requires every initializer to be a graph input (ONNX Runtime still treats them as constants).
          graph.addInput(valueInfo(t));
        }
      }
    }
    nodes.addAll(g.nodes());
    int at = insertionPoint(graph, g.reused());
    for (int i = 0; i < nodes.size(); i++) {
      graph.addNode(at + i, nodes.get(i));
      storedBytes += CodedOutputStream.computeMessageSize(Onnx.GraphProto.NODE_FIELD_NUMBER, nodes.get(i));
    }
    g.share();
    nextName = g.nextName();
    g.initializers().forEach(t -> modelNames.add(t.getName()));
    nodes.forEach(n -> modelNames.addAll(n.getOutputList()));
    List<String> ops = new ArrayList<>(g.ops());
    return EncodedLayer.of(tensorName, family, new ArrayList<>(g.components()), ops, storedBytes,
        weights.payloadBytes(), g.notes());
  }

  /** Decode nodes go first in the graph, but after the nodes of shared values they read. */
  private static int insertionPoint(Onnx.GraphProto.Builder graph, Set<String> reused) {
    int at = 0;
    if (reused.isEmpty()) {
      return at;
    }
    for (int i = 0; i < graph.getNodeCount(); i++) {
      for (String output : graph.getNodeOrBuilder(i).getOutputList()) {
        if (reused.contains(output)) {
          at = i + 1;
        }
      }
    }
    return at;
  }

  private static String family(CompressedWeights weights) {
    if (weights instanceof PalettizedWeights) {
      return "palettize";
    }
    if (weights instanceof QuantizedWeights) {
      return "quantize";
    }
    if (weights instanceof SparseWeights s) {
      return "sparse-" + family(s.kept());
    }
    return "dense";
  }

  /** The canonical float [rows, cols] decode of a non-dense form. */
  private static String decodeCanonical(DecodeGraph g, CompressedWeights weights, String tensorName) {
    if (weights instanceof PalettizedWeights p && PalettizedDecode.fusable(p)) {
      return PalettizedDecode.decodeFused(g, p, tensorName);
    }
    if (weights instanceof PalettizedWeights p) {
      int vectors = p.rows() * (p.cols() / p.clusterDim());
      return PalettizedDecode.decode(g, p, CodeStream.all(i -> p.indices()[i] & 0xff, vectors), tensorName);
    }
    if (weights instanceof QuantizedWeights q) {
      QuantizedDecode.validate(q, tensorName);
      return QuantizedDecode.decodeAll(g, q);
    }
    SparseWeights s = (SparseWeights) weights;
    CompressedWeights kept = s.kept();
    String decoded;
    SparseLayout sparse;
    if (kept instanceof PalettizedWeights p) {
      sparse = new SparseLayout(g, s, p.clusterDim());
      decoded = PalettizedDecode.decode(g, p, sparse.keptCodes(v -> p.indices()[v] & 0xff), tensorName);
    } else if (kept instanceof QuantizedWeights q) {
      QuantizedDecode.validate(q, tensorName);
      sparse = new SparseLayout(g, s, 1);
      decoded = QuantizedDecode.decodeCodes(g, q, sparse.keptCodes(i -> q.codes()[i]));
    } else {
      sparse = new SparseLayout(g, s, 1);
      decoded = sparse.keptFloats(g, ((DenseWeights) kept).matrix().values());
    }
    return sparse.applyMask(g, decoded);
  }

  /** Whether the canonical layout is the weight's own order of values (rows on axis 0, no transpose). */
  private static boolean inPlace(CanonicalLayout layout) {
    return Arrays.equals(layout.inversePermutation(), identity(layout.permutedShape().length));
  }

  private static String restoreLayout(DecodeGraph g, CanonicalLayout layout, String canonical) {
    long[] permuted = layout.permutedShape();
    boolean identityPermutation = Arrays.equals(layout.inversePermutation(), identity(permuted.length));
    boolean alreadyShaped = Arrays.equals(permuted, new long[] {layout.rows(), layout.cols()});
    String out = canonical;
    if (!alreadyShaped) {
      g.use(EncodingCatalog.LAYOUT);
      out = g.reshape(out, permuted);
    }
    if (!identityPermutation) {
      g.use(EncodingCatalog.LAYOUT);
      out = g.transpose(out, layout.inversePermutation());
    }
    return out;
  }

  private static long[] identity(int n) {
    long[] p = new long[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    return p;
  }

  /** Plain weights: one initializer in the tensor's own layout and dtype, no decode nodes. */
  private static void storeDense(DecodeGraph g, CanonicalLayout layout, DenseWeights dense, int dataType,
      String tensorName) {
    g.use(EncodingCatalog.DENSE);
    float[] values = layout.fromCanonical(dense.matrix().values());
    ByteBuffer raw;
    if (dataType == DecodeGraph.FLOAT) {
      raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : values) {
        raw.putFloat(v);
      }
    } else {
      raw = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : values) {
        raw.putShort(dataType == DecodeGraph.FLOAT16 ? Float16.fromFloat(v) : toBfloat16(v));
      }
    }
    String name = g.initializer(dataType, layout.shape(), raw.array());
    g.renameOutput(name, tensorName);
  }

  /** Round to nearest even, like ONNX Runtime's Cast to bfloat16; NaN stays NaN. */
  static short toBfloat16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  private static Onnx.ValueInfoProto valueInfo(Onnx.TensorProto t) {
    Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
    for (long d : t.getDimsList()) {
      shape.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfoProto.newBuilder().setName(t.getName())
        .setType(Onnx.TypeProto.newBuilder().setTensorType(
            Onnx.TypeProto.Tensor.newBuilder().setElemType(t.getDataType()).setShape(shape)))
        .build();
  }

  private static Onnx.NodeProto constantNode(Onnx.TensorProto t) {
    Onnx.AttributeProto value = Onnx.AttributeProto.newBuilder().setName("value")
        .setType(Onnx.AttributeProto.AttributeType.TENSOR).setT(t.toBuilder().clearName()).build();
    return Onnx.NodeProto.newBuilder().setOpType("Constant").addOutput(t.getName()).addAttribute(value).build();
  }

  /** Every tensor and node name used in the graph and its subgraphs (new names must not collide or shadow). */
  static Set<String> allNames(Onnx.GraphProtoOrBuilder graph) {
    Set<String> names = new HashSet<>();
    collectNames(graph, names);
    return names;
  }

  private static void collectNames(Onnx.GraphProtoOrBuilder graph, Set<String> names) {
    graph.getInitializerList().forEach(t -> names.add(t.getName()));
    graph.getInputList().forEach(v -> names.add(v.getName()));
    graph.getOutputList().forEach(v -> names.add(v.getName()));
    graph.getValueInfoList().forEach(v -> names.add(v.getName()));
    for (Onnx.NodeProto n : graph.getNodeList()) {
      names.addAll(n.getInputList());
      names.addAll(n.getOutputList());
      names.add(n.getName());
      for (Onnx.AttributeProto a : n.getAttributeList()) {
        if (a.hasG()) {
          collectNames(a.getG(), names);
        }
        a.getGraphsList().forEach(sub -> collectNames(sub, names));
      }
    }
  }
}
