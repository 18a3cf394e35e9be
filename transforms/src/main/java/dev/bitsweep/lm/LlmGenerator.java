package dev.bitsweep.lm;

import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.external.ByteSource;
import dev.bitsweep.onnx.external.ExternalDataWriter;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generates an LLM-shaped ONNX model with random weights from a fixed seed (opset 17, IR 8), its weights in one
 * external data file at 4 KiB-aligned offsets, written tensor by tensor from {@link RandomWeights} so the heap never
 * holds a weight. Input {@code input_ids} int64 [batch, sequence], output {@code logits} float [batch, sequence,
 * vocab]. Pre-LayerNorm blocks:
 *
 * <pre>
 *   x = Gather(embed, input_ids)
 *   per block b:  x = x + MatMul(MatMul(LN(x), q), o);   x = x + MatMul(Relu(MatMul(LN(x), up)), down)
 *   logits = MatMul(LN(x), lm_head)
 * </pre>
 *
 * Weights are uniform with unit-variance outputs (half width sqrt(3 / fan_in)); LayerNorm scales uniform in
 * [0.5, 1.5), biases in [-0.1, 0.1).
 */
public final class LlmGenerator {
  public static final String INPUT = "input_ids";
  public static final String OUTPUT = "logits";
  public static final float EPSILON = 1e-5f;
  public static final int OPSET = 17;

  private LlmGenerator() {}

  /** A built graph and the bytes of each initializer. */
  public record Model(Onnx.ModelProto proto, Map<String, RandomWeights> weights) {}

  /** What {@link #writeModel} wrote. */
  public record Written(Path modelFile, Path dataFile, long params, long modelBytes, long dataBytes) {}

  public static Model build(LlmShape shape, long seed) {
    Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("bitsweep_llm");
    Map<String, RandomWeights> weights = new LinkedHashMap<>();
    int d = shape.dim();
    int v = shape.vocab();
    Builder b = new Builder(graph, weights, seed);
    b.weight("embed.weight", new long[] {v, d}, 0f, 1f);
    b.node("Gather", "embed", new String[] {"embed.weight", INPUT}, "x0");
    String x = "x0";
    for (int i = 0; i < shape.blocks(); i++) {
      String p = "blocks." + i + ".";
      String a = b.layerNorm(p + "ln1", x, d);
      b.weight(p + "attn_q.weight", new long[] {d, d}, 0f, (float) Math.sqrt(3.0 / d));
      b.weight(p + "attn_o.weight", new long[] {d, d}, 0f, (float) Math.sqrt(3.0 / d));
      b.weight(p + "mlp_up.weight", new long[] {d, 4L * d}, 0f, (float) Math.sqrt(3.0 / d));
      b.weight(p + "mlp_down.weight", new long[] {4L * d, d}, 0f, (float) Math.sqrt(3.0 / (4.0 * d)));
      b.node("MatMul", p + "attn_q", new String[] {a, p + "attn_q.weight"}, p + "q");
      b.node("MatMul", p + "attn_o", new String[] {p + "q", p + "attn_o.weight"}, p + "attn");
      b.node("Add", p + "attn_residual", new String[] {x, p + "attn"}, p + "h");
      String c = b.layerNorm(p + "ln2", p + "h", d);
      b.node("MatMul", p + "mlp_up", new String[] {c, p + "mlp_up.weight"}, p + "up");
      b.node("Relu", p + "mlp_relu", new String[] {p + "up"}, p + "relu");
      b.node("MatMul", p + "mlp_down", new String[] {p + "relu", p + "mlp_down.weight"}, p + "mlp");
      b.node("Add", p + "mlp_residual", new String[] {p + "h", p + "mlp"}, p + "out");
      x = p + "out";
    }
    String f = b.layerNorm("ln_f", x, d);
    b.weight("lm_head.weight", new long[] {d, v}, 0f, (float) Math.sqrt(3.0 / d));
    b.node("MatMul", "lm_head", new String[] {f, "lm_head.weight"}, OUTPUT);
    graph.addInput(valueInfo(INPUT, DataType.INT64, "batch", "sequence"));
    graph.addOutput(valueInfo(OUTPUT, DataType.FLOAT, "batch", "sequence", Integer.toString(v)));
    Onnx.ModelProto model = Onnx.ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("bitsweep generate-lm")
        .setDocString("LLM-shaped test model with random weights: dim " + d + ", blocks " + shape.blocks() + ", vocab "
            + v + ", seed " + seed + " (" + shape.params() + " parameters)")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
        .setGraph(graph)
        .build();
    return new Model(model, weights);
  }

  /** Writes model.onnx and model.onnx.data into {@code directory}. */
  public static Written writeModel(LlmShape shape, long seed, Path directory) {
    Model model = build(shape, seed);
    Map<String, ByteSource> sources = new LinkedHashMap<>(model.weights());
    ExternalDataWriter.Result result = ExternalDataWriter.write(model.proto(), directory, sources,
        directory.resolve("model.onnx"), 0);
    return new Written(result.modelFile(), result.dataFile(), shape.params(), result.modelBytes(), result.dataBytes());
  }

  /** Random token ids in [0, vocab): {@code sequences} rows of {@code length}, written as {@code input_ids.npy}. */
  public static void writeTokens(Path split, int sequences, int length, int vocab, long seed) {
    long[] ids = tokens(sequences, length, vocab, seed);
    try {
      NpyWriter.writeInt64(split.resolve(INPUT + ".npy"), ids, new long[] {sequences, length});
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write token ids to " + split, e);
    }
  }

  public static long[] tokens(int sequences, int length, int vocab, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    long[] ids = new long[Math.multiplyExact(sequences, length)];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(vocab);
    }
    return ids;
  }

  /** A sweep spec for the generated model: the configs of the issue-13 benchmark. */
  public static void writeSpec(Path file, String name, int batchSize) {
    String spec = """
        # An LLM-shaped model with random weights made by `bitsweep generate-lm` (perplexity is meaningless on
        # random weights; the sizes, memory and work are real). Run: bin/bitsweep sweep %s
        name: %s
        model: model.onnx
        task: agreement
        eval_data: eval
        calibration_data: calibration
        batch_size: %d
        configs:
          - id: int8-per-channel
            method: linear_quantize
            mode: linear_symmetric
            dtype: int8
            granularity: per_channel
          - id: int4-block32
            method: linear_quantize
            mode: linear_symmetric
            dtype: int4
            granularity: per_block
            block_size: 32
          - id: kmeans-4bit-g16
            method: palettize
            mode: kmeans
            nbits: 4
            granularity: per_grouped_channel
            group_size: 16
          - id: gptq-4bit-g128
            method: gptq
            nbits: 4
            group_size: 128
            op_types:
              Gather: null
        """.formatted(file.getFileName(), name, batchSize);
    try {
      Files.writeString(file, spec, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  static Onnx.ValueInfoProto valueInfo(String name, int type, String... dims) {
    Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
    for (String dim : dims) {
      Onnx.TensorShapeProto.Dimension.Builder dimension = Onnx.TensorShapeProto.Dimension.newBuilder();
      if (dim.chars().allMatch(Character::isDigit)) {
        dimension.setDimValue(Long.parseLong(dim));
      } else {
        dimension.setDimParam(dim);
      }
      shape.addDim(dimension);
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name)
        .setType(Onnx.TypeProto.newBuilder().setTensorType(
            Onnx.TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape)))
        .build();
  }

  private static final class Builder {
    private final Onnx.GraphProto.Builder graph;
    private final Map<String, RandomWeights> weights;
    private final long seed;

    Builder(Onnx.GraphProto.Builder graph, Map<String, RandomWeights> weights, long seed) {
      this.graph = graph;
      this.weights = weights;
      this.seed = seed;
    }

    void weight(String name, long[] dims, float center, float halfWidth) {
      long count = 1;
      Onnx.TensorProto.Builder tensor = Onnx.TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT);
      for (long dim : dims) {
        tensor.addDims(dim);
        count *= dim;
      }
      graph.addInitializer(tensor);
      weights.put(name, new RandomWeights(RandomWeights.tensorSeed(seed, name), count, center, halfWidth));
    }

    void node(String op, String name, String[] inputs, String output, Onnx.AttributeProto... attributes) {
      Onnx.NodeProto.Builder node = Onnx.NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
      for (String input : inputs) {
        node.addInput(input);
      }
      for (Onnx.AttributeProto attribute : attributes) {
        node.addAttribute(attribute);
      }
      graph.addNode(node);
    }

    String layerNorm(String name, String input, int dim) {
      weight(name + ".scale", new long[] {dim}, 1f, 0.5f);
      weight(name + ".bias", new long[] {dim}, 0f, 0.1f);
      node("LayerNormalization", name, new String[] {input, name + ".scale", name + ".bias"}, name + ".out",
          Onnx.AttributeProto.newBuilder().setName("axis").setType(Onnx.AttributeProto.AttributeType.INT).setI(-1)
              .build(),
          Onnx.AttributeProto.newBuilder().setName("epsilon").setType(Onnx.AttributeProto.AttributeType.FLOAT)
              .setF(EPSILON).build());
      return name + ".out";
    }
  }
}
