package dev.bitsweep.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.calibrate.OutputError;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.layer.WeightLayout;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Activation capture checked against independent computations: the Hessian of a MatMul layer against Σ xᵀx of its
 * input computed here from the data, and the Hessians of Conv and Gemm layers through the identity
 * tr(D H Dᵀ) = ‖layer(x; D)‖², with ONNX Runtime computing the right-hand side by running the layer with weights D.
 */
class ActivationCaptureTest {
  @TempDir Path dir;

  @Test
  void matMulHessianIsTheSumOfOuterProductsOfItsInputRowsWithoutPaddedTokens() throws IOException {
    int batch = 3;
    int sequence = 4;
    int dim = 5;
    float[] x = gaussian(batch * sequence * dim, 1);
    float[] shift = gaussian(dim, 2);
    long[] mask = {1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1};
    Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("matmul")
        .addInput(valueInfo("x", DataType.FLOAT, batch, sequence, dim))
        .addInput(valueInfo("attention_mask", DataType.INT64, batch, sequence))
        .addInitializer(tensor("shift", new long[] {dim}, shift))
        .addInitializer(tensor("w", new long[] {dim, 6}, gaussian(dim * 6, 3)))
        .addNode(node("Add", List.of("x", "shift"), "h"))
        .addNode(node("MatMul", List.of("h", "w"), "y"))
        .addOutput(valueInfo("y", DataType.FLOAT, batch, sequence, 6))
        .build();
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    writeNpy(data.resolve("x.npy"), "<f4", new long[] {batch, sequence, dim}, x);
    writeNpyLongs(data.resolve("attention_mask.npy"), new long[] {batch, sequence}, mask);

    LayerStatistics statistics = capture(graph, data, "w");

    double[] expected = new double[dim * dim];
    long rows = 0;
    double min = Double.POSITIVE_INFINITY;
    for (int token = 0; token < batch * sequence; token++) {
      if (mask[token] == 0) {
        continue;
      }
      rows++;
      for (int i = 0; i < dim; i++) {
        float hi = x[token * dim + i] + shift[i];
        min = Math.min(min, hi);
        for (int j = 0; j < dim; j++) {
          expected[i * dim + j] += (double) hi * (x[token * dim + j] + shift[j]);
        }
      }
    }
    assertEquals(9, rows);
    assertEquals(rows, statistics.rows());
    assertEquals(1, statistics.groups());
    assertEquals(min, statistics.min(), 0.0);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], statistics.hessian()[i], 1e-12 * (1 + Math.abs(expected[i])), "H entry " + i);
    }
  }

  @Test
  void groupedStridedDilatedConvHessianGivesTheOutputEnergyOfAnyWeights() throws IOException {
    Onnx.NodeProto conv = node("Conv", List.of("h", "w"), "y").toBuilder()
        .addAttribute(ints("strides", 2, 1)).addAttribute(ints("pads", 1, 0, 1, 1))
        .addAttribute(ints("dilations", 1, 2)).addAttribute(intAttribute("group", 2)).build();
    checkConvEnergy(conv, new long[] {2, 4, 6, 5});
  }

  @Test
  void sameUpperPaddedConvHessianGivesTheOutputEnergyOfAnyWeights() throws IOException {
    Onnx.NodeProto conv = node("Conv", List.of("h", "w"), "y").toBuilder()
        .addAttribute(ints("strides", 2, 2)).addAttribute(Onnx.AttributeProto.newBuilder().setName("auto_pad")
            .setType(Onnx.AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8("SAME_UPPER")))
        .addAttribute(intAttribute("group", 2)).build();
    checkConvEnergy(conv, new long[] {2, 4, 7, 6});
  }

  @Test
  void gemmWithTransposedInputUsesTheColumnsOfA() throws IOException {
    int dim = 5;
    int tokens = 7;
    float[] a = gaussian(dim * tokens, 11);
    Onnx.NodeProto gemm = node("Gemm", List.of("a", "w"), "y").toBuilder()
        .addAttribute(intAttribute("transA", 1)).addAttribute(intAttribute("transB", 1)).build();
    Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("gemm")
        .addInput(valueInfo("a", DataType.FLOAT, dim, tokens))
        .addInitializer(tensor("w", new long[] {6, dim}, gaussian(6 * dim, 12)))
        .addNode(gemm)
        .addOutput(valueInfo("y", DataType.FLOAT, tokens, 6))
        .build();
    Path data = dir.resolve("gemm");
    Files.createDirectories(data);
    writeNpy(data.resolve("a.npy"), "<f4", new long[] {dim, tokens}, a);
    LayerStatistics statistics = capture(graph, data, "w");
    assertEquals(tokens, statistics.rows());
    for (int i = 0; i < dim; i++) {
      for (int j = 0; j < dim; j++) {
        double expected = 0;
        for (int m = 0; m < tokens; m++) {
          expected += (double) a[i * tokens + m] * a[j * tokens + m];
        }
        assertEquals(expected, statistics.hessian()[i * dim + j], 1e-12 * (1 + Math.abs(expected)));
      }
    }
  }

  @Test
  void modelsWithExternalDataAreCapturedToo() throws IOException {
    int dim = 4;
    float[] x = gaussian(6 * dim, 31);
    float[] w = gaussian(dim * 3, 32);
    ByteBuffer raw = ByteBuffer.allocate(w.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : w) {
      raw.putFloat(v);
    }
    Path modelDir = dir.resolve("external");
    Files.createDirectories(modelDir);
    Files.write(modelDir.resolve("weights.bin"), raw.array());
    Onnx.TensorProto external = Onnx.TensorProto.newBuilder().setName("w").setDataType(DataType.FLOAT)
        .addDims(dim).addDims(3).setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
        .addExternalData(Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin"))
        .build();
    Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("external")
        .addInput(valueInfo("x", DataType.FLOAT, 6, dim))
        .addInitializer(external)
        .addNode(node("MatMul", List.of("x", "w"), "y"))
        .addOutput(valueInfo("y", DataType.FLOAT, 6, 3))
        .build();
    Path file = modelDir.resolve("model.onnx");
    Files.write(file, model(graph).toByteArray());
    Path data = dir.resolve("external-data");
    Files.createDirectories(data);
    writeNpy(data.resolve("x.npy"), "<f4", new long[] {6, dim}, x);
    OnnxModel onnx = OnnxModel.read(file);
    List<Layer> layers = LayerFinder.find(onnx.proto(), 0).layers();
    try (ActivationCapture capture = ActivationCapture.open(onnx, layers, CapturePlan.of(onnx.proto(), layers))) {
      LayerStatistics statistics = capture.run(Dataset.open(data, ModelInput.of(onnx.proto()), false), 0, 6).get("w");
      double h01 = 0;
      for (int t = 0; t < 6; t++) {
        h01 += (double) x[t * dim] * x[t * dim + 1];
      }
      assertEquals(h01, statistics.hessian()[1], 1e-12 * (1 + Math.abs(h01)));
    }
    try (var left = Files.list(modelDir)) {
      assertEquals(List.of("model.onnx", "weights.bin"),
          left.map(p -> p.getFileName().toString()).sorted().toList(), "the capture copy is removed");
    }
  }

  @Test
  void layersWithoutAVisibleInputAreListedWithTheReason() {
    Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("gather")
        .addInput(valueInfo("ids", DataType.INT64, 2))
        .addInitializer(tensor("table", new long[] {10, 4}, gaussian(40, 5)))
        .addNode(node("Gather", List.of("table", "ids"), "y"))
        .addOutput(valueInfo("y", DataType.FLOAT, 2, 4))
        .build();
    Onnx.ModelProto model = model(graph);
    List<Layer> layers = LayerFinder.find(model, 0).layers();
    CapturePlan plan = CapturePlan.of(model, layers);
    assertTrue(plan.sites().isEmpty());
    assertEquals("no MatMul, Gemm or Conv node takes it as its weight input (it is used by Gather); input Hessians "
        + "exist only for the weights of those three ops", plan.unsupported().get("table"));
  }

  /** Σ over the output of y² for the conv run with random weights D equals tr(D H Dᵀ) from the captured H. */
  private void checkConvEnergy(Onnx.NodeProto conv, long[] inputShape) throws IOException {
    int channels = (int) inputShape[1];
    long[] weightShape = {6, channels / 2, 3, 2};
    int weightCount = 6 * channels / 2 * 6;
    float[] x = gaussian((int) (inputShape[0] * inputShape[1] * inputShape[2] * inputShape[3]), 21);
    Path data = dir.resolve("conv");
    Files.createDirectories(data);
    writeNpy(data.resolve("x.npy"), "<f4", inputShape, x);
    Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("conv")
        .addInput(valueInfo("x", DataType.FLOAT, inputShape))
        .addInitializer(tensor("one", new long[] {1}, new float[] {1f}))
        .addNode(node("Add", List.of("x", "one"), "h"))
        .addNode(conv)
        .addOutput(Onnx.ValueInfoProto.newBuilder().setName("y"));
    LayerStatistics statistics = capture(graph.clone()
        .addInitializer(tensor("w", weightShape, gaussian(weightCount, 22))).build(), data, "w");
    assertEquals(2, statistics.groups());

    float[] d = gaussian(weightCount, 23);
    Path withD = dir.resolve("conv-d.onnx");
    Files.write(withD, model(graph.addInitializer(tensor("w", weightShape, d)).build()).toByteArray());
    Onnx.ModelProto parsed = Onnx.ModelProto.parseFrom(Files.readAllBytes(withD));
    List<ModelInput> inputs = ModelInput.of(parsed);
    double energy = 0;
    try (ModelRunner runner = ModelRunner.open(withD, inputs)) {
      for (float y : runner.run(Dataset.open(data, inputs, false), 0, (int) inputShape[0]).values()) {
        energy += (double) y * y;
      }
    }
    WeightMatrix dMatrix = WeightLayout.toMatrix(d, weightShape, 0);
    double fromHessian = OutputError.of(dMatrix, new WeightMatrix(new float[d.length], 6, d.length / 6),
        statistics.hessian());
    assertEquals(energy, fromHessian, 1e-5 * energy);
  }

  private LayerStatistics capture(Onnx.GraphProto graph, Path data, String weight) throws IOException {
    Onnx.ModelProto proto = model(graph);
    Path file = dir.resolve("model-" + weight + "-" + graph.getName() + ".onnx");
    Files.write(file, proto.toByteArray());
    OnnxModel model = OnnxModel.read(file);
    List<Layer> layers = LayerFinder.find(model.proto(), 0).layers().stream()
        .filter(l -> l.name().equals(weight)).toList();
    CapturePlan plan = CapturePlan.of(model.proto(), layers);
    Dataset dataset = Dataset.open(data, ModelInput.of(model.proto()), false);
    try (ActivationCapture capture = ActivationCapture.open(model, layers, plan)) {
      Map<String, LayerStatistics> statistics = capture.run(dataset, 0, dataset.samples());
      return statistics.get(weight);
    }
  }

  static float[] gaussian(int count, long seed) {
    Random random = new Random(seed);
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return values;
  }

  static Onnx.ModelProto model(Onnx.GraphProto graph) {
    return Onnx.ModelProto.newBuilder().setIrVersion(7).setProducerName("bitsweep-test")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(graph).build();
  }

  static Onnx.TensorProto tensor(String name, long[] shape, float[] values) {
    Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT);
    for (long d : shape) {
      t.addDims(d);
    }
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    return t.setRawData(ByteString.copyFrom(raw.array())).build();
  }

  static Onnx.ValueInfoProto valueInfo(String name, int elemType, long... shape) {
    Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
    for (long d : shape) {
      s.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
  }

  static Onnx.NodeProto node(String op, List<String> inputs, String output) {
    return Onnx.NodeProto.newBuilder().setOpType(op).addAllInput(inputs).addOutput(output).build();
  }

  private static Onnx.AttributeProto ints(String name, long... values) {
    Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
        .setType(Onnx.AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  private static Onnx.AttributeProto intAttribute(String name, long value) {
    return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT).setI(value)
        .build();
  }

  static void writeNpy(Path file, String descr, long[] shape, float[] values) throws IOException {
    ByteBuffer body = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      body.putFloat(v);
    }
    write(file, descr, shape, body.array());
  }

  private static void writeNpyLongs(Path file, long[] shape, long[] values) throws IOException {
    ByteBuffer body = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      body.putLong(v);
    }
    write(file, "<i8", shape, body.array());
  }

  private static void write(Path file, String descr, long[] shape, byte[] body) throws IOException {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims.toString().trim() + "), }";
    int total = 10 + header.length() + 1;
    header = header + " ".repeat((64 - total % 64) % 64) + "\n";
    ByteBuffer out = ByteBuffer.allocate(10 + header.length() + body.length).order(ByteOrder.LITTLE_ENDIAN);
    out.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    out.putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).put(body);
    Files.write(file, out.array());
  }
}
