package dev.bitsweep.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OnnxModelTest {

  @ParameterizedTest
  @ValueSource(strings = {"matmul_in_out_opset7.onnx", "gemm_transb_opset11.onnx", "constant_node_weights_opset13.onnx",
      "if_subgraph_opset13.onnx", "lstm_opset14.onnx", "conv_variants_opset17.onnx", "already_int8_opset13.onnx",
      "fp16_weights_opset17.onnx", "external_data_opset13.onnx", "opset21_int4_ready.onnx"})
  void readAndWrittenUnchangedIsByteIdentical(String name) throws IOException {
    Path file = TestModels.model(name);
    OnnxModel model = OnnxModel.read(file);
    assertArrayEquals(Files.readAllBytes(file), model.toBytes());
    assertEquals(OnnxModel.sha256(file), model.sha256());
  }

  @Test
  void demoModelRoundTripsByteIdentically() throws IOException {
    Path file = TestModels.repositoryRoot().resolve("calibration-data/digits/model.onnx");
    assertArrayEquals(Files.readAllBytes(file), OnnxModel.read(file).toBytes());
  }

  @Test
  void missingFileIsNamed(@TempDir Path dir) {
    Path missing = dir.resolve("nope.onnx");
    ModelException e = assertThrows(ModelException.class, () -> OnnxModel.read(missing));
    assertEquals("model file not found: " + missing + " (check the path; it must be readable by every worker)", e.getMessage());
  }

  @Test
  void truncatedAndNonOnnxFilesAreRejected() {
    for (String name : new String[] {"truncated.onnx", "not_onnx.onnx"}) {
      ModelException e = assertThrows(ModelException.class, () -> OnnxModel.read(TestModels.model(name)));
      assertTrue(e.getMessage().startsWith("model file " + TestModels.model(name)), e.getMessage());
      assertTrue(e.getMessage().contains("export or download it again"), e.getMessage());
    }
  }

  @Test
  void truncationAtAFieldBoundaryIsStillCaught(@TempDir Path dir) throws IOException {
    byte[] bytes = Files.readAllBytes(TestModels.model("matmul_in_out_opset7.onnx"));
    for (int cut : new int[] {0, 1, 7, bytes.length / 3, bytes.length - 1}) {
      Path file = dir.resolve("cut" + cut + ".onnx");
      Files.write(file, java.util.Arrays.copyOf(bytes, cut));
      assertThrows(ModelException.class, () -> OnnxModel.read(file), "cut at " + cut);
    }
  }

  @Test
  void defaultOpsetIgnoresOtherDomains() {
    assertEquals(7, OnnxModel.read(TestModels.model("matmul_in_out_opset7.onnx")).defaultOpset());
    assertEquals(21, OnnxModel.read(TestModels.model("opset21_int4_ready.onnx")).defaultOpset());
  }
}
