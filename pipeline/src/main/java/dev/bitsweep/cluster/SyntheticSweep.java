package dev.bitsweep.cluster;

import com.google.protobuf.ByteString;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A synthetic sweep whose compression stage matters (cluster benchmark, lost-worker test): an untrained
 * 64-H-H-H-10 MLP (fixed seed, so every run sees the same bytes) over the digits eval data (accuracy is near chance;
 * only the work and the reproducibility count), 19 configs x 4 layers = 76 compression tasks.
 */
public final class SyntheticSweep {
  public static final int CONFIGS = 19;
  public static final int LAYERS = 4;
  private static final int FLOAT = 1;

  private SyntheticSweep() {}

  /** Writes model.onnx and sweep.yaml (absolute paths) into {@code dir}; {@code evalData}: the digits eval directory. */
  public static Path write(Path dir, int hidden, Path evalData) {
    try {
      Files.createDirectories(dir);
      Files.write(dir.resolve("model.onnx"), model(hidden).toByteArray());
      Path spec = dir.resolve("sweep.yaml");
      Files.writeString(spec, """
          name: wide-mlp
          model: %s
          task: classification
          eval_data: %s
          batch_size: 135
          weight_threshold: 2048
          grid:
            - method: palettize
              mode: kmeans
              nbits: [8, 6, 4, 3, 2, 1]
              granularity: per_tensor
            - method: palettize
              mode: kmeans
              nbits: [8, 6, 4, 2]
              granularity: per_grouped_channel
              group_size: 2
            - method: palettize
              mode: uniform
              nbits: [8, 4, 2]
              granularity: per_tensor
            - method: linear_quantize
              mode: linear_symmetric
              dtype: int8
              granularity: per_channel
            - method: linear_quantize
              mode: linear_symmetric
              dtype: int4
              granularity: per_block
              block_size: [32, 64]
            - method: prune
              mode: magnitude
              target_sparsity: [0.5, 0.75, 0.9]
          """.formatted(dir.resolve("model.onnx"), evalData.toAbsolutePath().normalize()));
      return spec;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Onnx.ModelProto model(int hidden) {
    Random random = new Random(20261125);
    int[] widths = {64, hidden, hidden, hidden, 10};
    Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("wide_mlp")
        .addInput(valueInfo("input", "batch", 1, 8, 8))
        .addOutput(valueInfo("logits", "batch", 10))
        .addNode(node("Flatten", "input", "flat"));
    String x = "flat";
    for (int l = 0; l < widths.length - 1; l++) {
      String weight = "fc" + l + ".weight";
      graph.addInitializer(gaussian(weight, widths[l], widths[l + 1], random));
      String y = l == widths.length - 2 ? "logits" : "fc" + l + ".out";
      graph.addNode(node("MatMul", x, weight, y));
      if (l < widths.length - 2) {
        graph.addNode(node("Relu", y, "fc" + l + ".relu"));
        x = "fc" + l + ".relu";
      }
    }
    return Onnx.ModelProto.newBuilder().setIrVersion(7).setProducerName("bitsweep-test")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(graph).build();
  }

  /** He-style initialisation: N(0, 2 / fan_in). */
  private static Onnx.TensorProto gaussian(String name, int rows, int cols, Random random) {
    ByteBuffer raw = ByteBuffer.allocate(rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
    double scale = Math.sqrt(2.0 / rows);
    for (int i = 0; i < rows * cols; i++) {
      raw.putFloat((float) (random.nextGaussian() * scale));
    }
    return Onnx.TensorProto.newBuilder().setName(name).setDataType(FLOAT).addDims(rows).addDims(cols)
        .setRawData(ByteString.copyFrom(raw.array())).build();
  }

  private static Onnx.NodeProto node(String op, String... inputsThenOutput) {
    Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).setName(inputsThenOutput[inputsThenOutput.length - 1]);
    for (int i = 0; i < inputsThenOutput.length - 1; i++) {
      n.addInput(inputsThenOutput[i]);
    }
    return n.addOutput(inputsThenOutput[inputsThenOutput.length - 1]).build();
  }

  private static Onnx.ValueInfoProto valueInfo(String name, String batch, long... shape) {
    Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder()
        .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
    for (long d : shape) {
      s.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(FLOAT).setShape(s))).build();
  }
}
