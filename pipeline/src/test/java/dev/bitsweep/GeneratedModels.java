package dev.bitsweep;

import com.google.protobuf.ByteString;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Collectors;

/** Small ONNX models and .npy data written by tests (opset 13, IR 7); a leading dimension of -1 is a batch "N". */
public final class GeneratedModels {
  public static final int FLOAT = 1;
  public static final int INT64 = 7;

  private GeneratedModels() {}

  public static Onnx.TensorProto tensor(String name, long[] shape, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(FLOAT)
        .setRawData(ByteString.copyFrom(raw.array()));
    Arrays.stream(shape).forEach(t::addDims);
    return t.build();
  }

  /** A float tensor of {@code shape} with N(0, scale²) values. */
  public static Onnx.TensorProto randomTensor(String name, Random random, double scale, long... shape) {
    float[] values = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * scale);
    }
    return tensor(name, shape, values);
  }

  public static Onnx.ValueInfoProto valueInfo(String name, int elemType, long... shape) {
    Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
    for (long d : shape) {
      s.addDim(d < 0 ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("N")
          : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
  }

  public static Onnx.NodeProto.Builder node(String op, String name, String[] inputs, String... outputs) {
    Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).setName(name);
    Arrays.stream(inputs).forEach(n::addInput);
    Arrays.stream(outputs).forEach(n::addOutput);
    return n;
  }

  public static Onnx.AttributeProto ints(String name, long... values) {
    Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
        .setType(Onnx.AttributeProto.AttributeType.INTS);
    Arrays.stream(values).forEach(a::addInts);
    return a.build();
  }

  public static Onnx.AttributeProto intAttr(String name, long value) {
    return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT)
        .setI(value).build();
  }

  public static Path write(Path file, Onnx.GraphProto graph) throws IOException {
    Onnx.ModelProto model = Onnx.ModelProto.newBuilder().setIrVersion(7).setProducerName("bitsweep-test")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(graph).build();
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, model.toByteArray());
    return file;
  }

  /** A little-endian float32 (descr {@code <f4}) or int64 ({@code <i8}) .npy file of {@code shape}. */
  public static void writeNpy(Path file, float[] values, long... shape) throws IOException {
    ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      data.putFloat(v);
    }
    writeNpy(file, "<f4", data.array(), shape);
  }

  public static void writeNpy(Path file, long[] values, long... shape) throws IOException {
    ByteBuffer data = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      data.putLong(v);
    }
    writeNpy(file, "<i8", data.array(), shape);
  }

  private static void writeNpy(Path file, String descr, byte[] data, long... shape) throws IOException {
    String dims = Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "))
        + (shape.length == 1 ? "," : "");
    String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    int total = 10 + header.length() + 1;
    header = header + " ".repeat((64 - total % 64) % 64) + "\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.write(header.length() & 0xff);
    out.write(header.length() >> 8);
    out.write(header.getBytes(StandardCharsets.US_ASCII));
    out.write(data);
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, out.toByteArray());
  }
}
