package dev.bitsweep.cluster;

import com.google.protobuf.ByteString;
import dev.bitsweep.Fixtures;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A sweep with a compression stage long enough to lose a worker in: an untrained 64-1024-1024-1024-10 MLP (fixed
 * seed, so every run sees the same bytes) over the digits eval data, 20 configs x 4 layers = 80 compression tasks.
 */
final class WideMlpSweep {
  static final int HIDDEN = 1024;
  static final int CONFIGS = 20;
  static final int LAYERS = 4;
  private static final int FLOAT = 1;

  private WideMlpSweep() {}

  /** Writes model.onnx and sweep.yaml (absolute paths) into {@code dir}; returns the spec. */
  static Path write(Path dir) {
    try {
      Files.createDirectories(dir);
      Files.write(dir.resolve("model.onnx"), model().toByteArray());
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
              nbits: [8, 7, 6, 5, 4, 3, 2]
              granularity: per_tensor
            - method: palettize
              mode: kmeans
              nbits: [8, 6, 4, 2]
              granularity: per_grouped_channel
              group_size: [16, 64]
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
              target_sparsity: [0.5, 0.75]
          """.formatted(dir.resolve("model.onnx"), Fixtures.digits().resolve("eval")));
      return spec;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Onnx.ModelProto model() {
    Random random = new Random(20261125);
    int[] widths = {64, HIDDEN, HIDDEN, HIDDEN, 10};
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
