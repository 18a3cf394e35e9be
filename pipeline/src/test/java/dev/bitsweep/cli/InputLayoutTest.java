package dev.bitsweep.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.data.DataException;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.InputFeed;
import dev.bitsweep.data.InputLayout;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs that are not "one .npy with samples on axis 0": a scalar sample rate given as a value, a state-like input
 * [2, batch, 3] with its batch on axis 1, and the layouts that are ambiguous against the declared shapes.
 */
class InputLayoutTest {
  private static final int SAMPLES = 5;
  @TempDir Path temp;
  private Path model;
  private Path eval;
  private float[] file;

  /** y = (h * float(sr) + 0.5) @ I3, with h [2, batch, 3] float and sr int64 [] (a scalar). */
  @BeforeEach
  void writeModelAndData() throws Exception {
    Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("layout")
        .addInput(value("h", 1, 2, -1, 3)).addInput(value("sr", 7))
        .addOutput(value("y", 1, 2, -1, 3))
        .addInitializer(Onnx.TensorProto.newBuilder().setName("half").setDataType(1).addFloatData(0.5f))
        .addNode(Onnx.NodeProto.newBuilder().setOpType("Cast").addInput("sr").addOutput("srf")
            .addAttribute(Onnx.AttributeProto.newBuilder().setName("to").setType(Onnx.AttributeProto.AttributeType.INT).setI(1)))
        .addNode(Onnx.NodeProto.newBuilder().setOpType("Mul").addInput("h").addInput("srf").addOutput("scaled"))
        .addNode(Onnx.NodeProto.newBuilder().setOpType("Add").addInput("scaled").addInput("half").addOutput("shifted"))
        .addInitializer(Onnx.TensorProto.newBuilder().setName("eye").setDataType(1).addDims(3).addDims(3)
            .addAllFloatData(List.of(1f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 1f)))
        .addNode(Onnx.NodeProto.newBuilder().setOpType("MatMul").addInput("shifted").addInput("eye").addOutput("y"))
        .build();
    Onnx.ModelProto proto = Onnx.ModelProto.newBuilder().setIrVersion(7).setGraph(graph)
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(13)).build();
    model = temp.resolve("model.onnx");
    Files.write(model, proto.toByteArray());
    eval = Files.createDirectories(temp.resolve("eval"));
    file = new float[SAMPLES * 2 * 3];
    for (int i = 0; i < file.length; i++) {
      file[i] = (float) Math.sin(0.7 * i + 0.1);
    }
    writeNpy(eval.resolve("h.npy"), "<f4", new long[] {SAMPLES, 2, 3}, floats(file));
  }

  @Test
  void valueAndBatchAxisAreFedExactlyAsADirectRun() throws Exception {
    List<ModelInput> inputs = InputLayout.apply(Onnx.ModelProto.parseFrom(Files.readAllBytes(model)),
        Map.of("h", InputFeed.file(1), "sr", InputFeed.constant(3)), temp);
    Dataset data = Dataset.open(eval, inputs, false);
    assertEquals(1, data.batchAxis("h"));
    ModelRunner.Output fed;
    try (ModelRunner runner = ModelRunner.open(model, inputs)) {
      fed = runner.run(data, 1, 4);
    }
    // the direct run: samples 1..3 of the file transposed by hand into [2, 3 samples, 3], sr a rank-0 int64 of 3
    float[] transposed = new float[2 * 3 * 3];
    for (int s = 0; s < 3; s++) {
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
          transposed[(i * 3 + s) * 3 + j] = file[((s + 1) * 2 + i) * 3 + j];
        }
      }
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[] direct;
    try (OrtSession session = env.createSession(model.toString(), new OrtSession.SessionOptions());
        OnnxTensor h = OnnxTensor.createTensor(env, FloatBuffer.wrap(transposed), new long[] {2, 3, 3});
        OnnxTensor sr = OnnxTensor.createTensor(env, 3L);
        OrtSession.Result result = session.run(Map.of("h", h, "sr", sr))) {
      direct = ((float[][][]) result.get(0).getValue()) == null ? null : flatten((float[][][]) result.get(0).getValue());
    }
    assertArrayEquals(new long[] {2, 3, 3}, fed.shape());
    assertArrayEquals(direct, fed.values(), 0f);
    for (int k = 0; k < transposed.length; k++) {
      assertEquals(transposed[k] * 3f + 0.5f, fed.values()[k], 0f, "y = h * sr + 0.5 at " + k);
    }
  }

  @Test
  void withoutBatchAxisTheLayoutIsAmbiguousExit2() throws Exception {
    Path spec = spec("inputs:\n  sr: {value: 16000}\n");
    CliRun.Outcome outcome = CliRun.bitsweep("sweep", spec.toString());
    assertEquals(ExitCodes.BAD_INPUT, outcome.exitCode(), outcome.err());
    assertEquals("bitsweep: error: data file " + eval.resolve("h.npy") + " has shape [5, 2, 3], which fits model "
        + "input 'h' [2,?,3] with its samples on model axis 0 or 1: the layout is ambiguous; give the batch axis in "
        + "the spec, e.g. 'inputs: {h: {batch_axis: 1}}'" + System.lineSeparator(), outcome.err());
  }

  @Test
  void aScalarFedFromAFileIsAnErrorThatSuggestsAValue() throws Exception {
    writeNpy(eval.resolve("sr.npy"), "<i8", new long[] {SAMPLES}, longs(SAMPLES, 16000));
    Path spec = spec("inputs:\n  h: {batch_axis: 1}\n");
    CliRun.Outcome outcome = CliRun.bitsweep("sweep", spec.toString());
    assertEquals(ExitCodes.BAD_INPUT, outcome.exitCode(), outcome.err());
    assertEquals("bitsweep: error: model input 'sr' is a scalar (shape []) but " + eval.resolve("sr.npy")
        + " holds it per sample (shape [5]): a scalar is one value for every sample; remove the file and give it in "
        + "the spec, e.g. 'inputs: {sr: {value: 16000}}'" + System.lineSeparator(), outcome.err());
  }

  @Test
  void aValueForAnInputThatAlsoHasAFileIsAnError() throws Exception {
    writeNpy(eval.resolve("sr.npy"), "<i8", new long[] {SAMPLES}, longs(SAMPLES, 16000));
    List<ModelInput> inputs = InputLayout.apply(Onnx.ModelProto.parseFrom(Files.readAllBytes(model)),
        Map.of("h", InputFeed.file(1), "sr", InputFeed.constant(3)), temp);
    DataException e = assertThrows(DataException.class, () -> Dataset.open(eval, inputs, false));
    assertEquals("data file " + eval.resolve("sr.npy") + " is for model input 'sr', which the spec feeds as a value:"
        + " remove the file or the spec's 'sr' entry, so that the input has one source", e.getMessage());
  }

  @Test
  void aFractionalValueForAnIntegerInputIsAnError() throws Exception {
    DataException e = assertThrows(DataException.class, () -> InputLayout.apply(
        Onnx.ModelProto.parseFrom(Files.readAllBytes(model)), Map.of("sr", InputFeed.constant(2.5)), temp));
    assertEquals("model input 'sr' is int64 but its value 2.5 is not an integer", e.getMessage());
  }

  private Path spec(String inputs) throws Exception {
    Path spec = temp.resolve("spec.yaml");
    Files.writeString(spec, "name: layout\nmodel: " + model + "\ntask: agreement\neval_data: " + eval + "\nout: "
        + temp.resolve("out") + "\nweight_threshold: 0\n" + inputs + CliRun.INT8);
    return spec;
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

  private static float[] flatten(float[][][] values) {
    int a = values.length;
    int b = values[0].length;
    int c = values[0][0].length;
    float[] flat = new float[a * b * c];
    for (int i = 0; i < a; i++) {
      for (int j = 0; j < b; j++) {
        System.arraycopy(values[i][j], 0, flat, (i * b + j) * c, c);
      }
    }
    return flat;
  }

  private static byte[] floats(float[] values) {
    ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      data.putFloat(v);
    }
    return data.array();
  }

  private static byte[] longs(int count, long value) {
    ByteBuffer data = ByteBuffer.allocate(count * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      data.putLong(value);
    }
    return data.array();
  }

  static void writeNpy(Path file, String descr, long[] shape, byte[] data) throws Exception {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, dims.length() - 2) + ")";
    String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
    int total = 10 + header.length() + 1;
    header = header + " ".repeat((64 - total % 64) % 64) + "\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.write(header.length() & 0xff);
    out.write(header.length() >> 8);
    out.write(header.getBytes(StandardCharsets.US_ASCII));
    out.write(data);
    Files.write(file, out.toByteArray());
  }
}
