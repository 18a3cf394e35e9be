package dev.bitsweep.onnx.encode;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes every test case's encoded model to a directory, for checking with other ONNX tools (not a test). */
class DumpModels {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Files.createDirectories(dir);
    int k = 0;
    for (int opset : WeightEncoderTest.OPSETS) {
      for (WeightEncoderTest.Case c : WeightEncoderTest.cases()) {
        CompressedWeights weights = c.weights().get();
        CanonicalLayout layout = new CanonicalLayout(c.shape(), c.axis());
        Onnx.ModelProto model = TestModels.identity(opset, "W", c.shape(), new float[layout.rows() * layout.cols()], c.dataType());
        Onnx.ModelProto.Builder encoded = model.toBuilder();
        WeightEncoder.forModel(model).encode(encoded.getGraphBuilder(), "W", c.shape(), c.axis(), weights);
        Files.write(dir.resolve(String.format("op%02d_%03d.onnx", opset, k++)), encoded.build().toByteArray());
      }
    }
  }
}
