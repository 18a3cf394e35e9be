package dev.bitsweep;

import com.google.protobuf.ByteString;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Test models shaped like a language model, small enough to build in a test: int64 inputs [N, 6], each gathered
 * from one embedding [32, 8] and summed, then MatMul [8, 16] to logits [N, 6, 16]; or, pooled, the positions
 * averaged first (logits [N, 16]). Token ids 16..31 run in ONNX Runtime but lie outside the logits' vocabulary.
 */
public final class TinyLm {
  public static final int POSITIONS = 6;
  public static final int VOCABULARY = 16;

  private TinyLm() {}

  public static Path model(Path file, boolean pooled, String... inputs) throws IOException {
    Random random = new Random(7);
    Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("tiny")
        .addInitializer(weights("embed", random, 32, 8)).addInitializer(weights("head", random, 8, VOCABULARY));
    String sum = null;
    for (String input : inputs) {
      graph.addInput(value(input, DataType.INT64, -1, POSITIONS));
      graph.addNode(node("Gather", "embed", input, input + "_embedded"));
      if (sum == null) {
        sum = input + "_embedded";
      } else {
        graph.addNode(node("Add", sum, input + "_embedded", sum + "+"));
        sum = sum + "+";
      }
    }
    if (pooled) {
      graph.addNode(Onnx.NodeProto.newBuilder().setOpType("ReduceMean").addInput(sum).addOutput("pooled")
          .addAttribute(Onnx.AttributeProto.newBuilder().setName("axes").setType(Onnx.AttributeProto.AttributeType.INTS)
              .addInts(1))
          .addAttribute(Onnx.AttributeProto.newBuilder().setName("keepdims").setType(Onnx.AttributeProto.AttributeType.INT)
              .setI(0)));
      graph.addNode(node("MatMul", "pooled", "head", "logits"));
      graph.addOutput(value("logits", DataType.FLOAT, -1, VOCABULARY));
    } else {
      graph.addNode(node("MatMul", sum, "head", "logits"));
      graph.addOutput(value("logits", DataType.FLOAT, -1, POSITIONS, VOCABULARY));
    }
    Onnx.ModelProto model = Onnx.ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).setGraph(graph).build();
    Files.write(file, model.toByteArray());
    return file;
  }

  /** A little-endian int64 .npy file of shape [values.length / 6, 6]. */
  public static void writeInt64(Path file, long[] values) throws IOException {
    StringBuilder header = new StringBuilder("{'descr': '<i8', 'fortran_order': False, 'shape': ("
        + values.length / POSITIONS + ", " + POSITIONS + "), }");
    while ((10 + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    ByteBuffer bytes = ByteBuffer.allocate(10 + header.length() + 8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    bytes.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
    bytes.put(header.toString().getBytes(StandardCharsets.US_ASCII));
    for (long v : values) {
      bytes.putLong(v);
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, bytes.array());
  }

  private static Onnx.NodeProto node(String op, String a, String b, String output) {
    return Onnx.NodeProto.newBuilder().setOpType(op).addInput(a).addInput(b).addOutput(output).build();
  }

  private static Onnx.TensorProto weights(String name, Random random, int rows, int cols) {
    ByteBuffer data = ByteBuffer.allocate(rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows * cols; i++) {
      data.putFloat((float) random.nextGaussian());
    }
    return Onnx.TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT).addDims(rows).addDims(cols)
        .setRawData(ByteString.copyFrom(data.array())).build();
  }

  private static Onnx.ValueInfoProto value(String name, int type, long... dims) {
    Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
    for (long d : dims) {
      shape.addDim(d < 0 ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
          : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
  }
}
