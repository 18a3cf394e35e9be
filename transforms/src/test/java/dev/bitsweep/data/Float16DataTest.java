package dev.bitsweep.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.bitsweep.compress.Float16;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fp16 data ({@code <f2}) feeds a model whose input is FLOAT16, as calibration-data/README.md promises. */
class Float16DataTest {
  private static final int SAMPLES = 5;
  private static final int IN = 4;
  private static final int OUT = 3;

  @TempDir Path dir;

  /** x (FLOAT16 [N, 4]) -> Cast to float -> MatMul W [4, 3] -> y. */
  private static Onnx.ModelProto model(float[] w) {
    ByteBuffer raw = ByteBuffer.allocate(w.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : w) {
      raw.putFloat(v);
    }
    Onnx.TensorShapeProto.Builder inShape = Onnx.TensorShapeProto.newBuilder()
        .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
        .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(IN));
    Onnx.TensorShapeProto.Builder outShape = Onnx.TensorShapeProto.newBuilder()
        .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
        .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(OUT));
    Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("fp16_input")
        .addInput(Onnx.ValueInfoProto.newBuilder().setName("x").setType(Onnx.TypeProto.newBuilder()
            .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(10).setShape(inShape))))
        .addOutput(Onnx.ValueInfoProto.newBuilder().setName("y").setType(Onnx.TypeProto.newBuilder()
            .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(1).setShape(outShape))))
        .addInitializer(Onnx.TensorProto.newBuilder().setName("w").setDataType(1).addDims(IN).addDims(OUT)
            .setRawData(ByteString.copyFrom(raw.array())))
        .addNode(Onnx.NodeProto.newBuilder().setOpType("Cast").addInput("x").addOutput("xf")
            .addAttribute(Onnx.AttributeProto.newBuilder().setName("to").setI(1)
                .setType(Onnx.AttributeProto.AttributeType.INT)))
        .addNode(Onnx.NodeProto.newBuilder().setOpType("MatMul").addInput("xf").addInput("w").addOutput("y"))
        .build();
    return Onnx.ModelProto.newBuilder().setIrVersion(7).setGraph(graph)
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build();
  }

  private static void writeFloat16Npy(Path file, float[] values, int rows, int cols) throws IOException {
    String header = "{'descr': '<f2', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
    header += " ".repeat(63 - (10 + header.length()) % 64) + "\n";
    ByteBuffer npy = ByteBuffer.allocate(10 + header.length() + values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    npy.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
        .putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
    for (float v : values) {
      npy.putShort(Float16.fromFloat(v));
    }
    Files.write(file, npy.array());
  }

  @Test
  void float16DataRunsThroughOnnxRuntime() throws IOException {
    float[] w = new float[IN * OUT];
    for (int i = 0; i < w.length; i++) {
      w[i] = (i % 5 - 2) * 0.5f;
    }
    float[] x = new float[SAMPLES * IN];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i % 9 - 4) * 0.25f; // exact in fp16
    }
    Path modelFile = dir.resolve("model.onnx");
    Onnx.ModelProto model = model(w);
    Files.write(modelFile, model.toByteArray());
    Path data = Files.createDirectories(dir.resolve("eval"));
    writeFloat16Npy(data.resolve("x.npy"), x, SAMPLES, IN);

    List<ModelInput> inputs = ModelInput.of(model);
    Dataset dataset = Dataset.open(data, inputs, false);
    assertEquals("float16", dataset.inputs().get("x").dtype());
    assertArrayEquals(x, dataset.inputs().get("x").floats(0, SAMPLES));
    float[] expected = new float[SAMPLES * OUT];
    for (int s = 0; s < SAMPLES; s++) {
      for (int o = 0; o < OUT; o++) {
        for (int i = 0; i < IN; i++) {
          expected[s * OUT + o] += x[s * IN + i] * w[i * OUT + o];
        }
      }
    }
    try (ModelRunner runner = ModelRunner.open(modelFile, inputs)) {
      ModelRunner.Output output = runner.run(dataset, 0, SAMPLES);
      assertArrayEquals(new long[] {SAMPLES, OUT}, output.shape());
      assertArrayEquals(expected, output.values());
    }
  }

  @Test
  void aNonFiniteFloat16ValueIsNamed() throws IOException {
    float[] x = new float[SAMPLES * IN];
    x[2 * IN + 1] = Float.NaN;
    Path data = Files.createDirectories(dir.resolve("eval"));
    writeFloat16Npy(data.resolve("x.npy"), x, SAMPLES, IN);
    DataException e = assertThrows(DataException.class,
        () -> Dataset.open(data, ModelInput.of(model(new float[IN * OUT])), false));
    assertEquals("data file " + data.resolve("x.npy") + " holds NaN at sample 2 (flat index 9): every input value "
        + "must be finite; fix the data or its preprocessing (numpy.isfinite(arr).all() must be True)", e.getMessage());
  }
}
