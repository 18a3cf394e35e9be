package dev.bitsweep.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bitsweep.TestModels;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** External-data references are validated when the model is opened, before any byte of the data is read. */
class ExternalDataTest {
  private static final String DATA = "external_data_opset13.onnx.data";
  private static final String TENSOR = "fc1.weight";

  @TempDir Path temp;
  private Path root;
  private Path modelDir;
  private Path secret;

  @BeforeEach
  void modelBesideASecret() throws IOException {
    root = temp.toRealPath();
    modelDir = Files.createDirectories(root.resolve("model"));
    Files.copy(TestModels.model(DATA), modelDir.resolve(DATA));
    secret = root.resolve("secret.bin");
    Files.write(secret, new byte[64 * 128 * 4]);
  }

  /** The fixture model with fc1.weight's external_data entries replaced (in order). */
  private Path modelWith(Map<String, String> entries) throws IOException {
    Onnx.ModelProto.Builder model = Onnx.ModelProto.parseFrom(Files.readAllBytes(
        TestModels.model("external_data_opset13.onnx"))).toBuilder();
    Onnx.TensorProto.Builder tensor = model.getGraphBuilder().getInitializerBuilder(0);
    assertEquals(TENSOR, tensor.getName());
    tensor.clearExternalData();
    entries.forEach((key, value) -> tensor.addExternalData(
        Onnx.StringStringEntryProto.newBuilder().setKey(key).setValue(value)));
    Path file = modelDir.resolve("model.onnx");
    Files.write(file, model.build().toByteArray());
    return file;
  }

  private static Map<String, String> entries(String... keysAndValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  private void assertRejected(Map<String, String> entries, String problem) throws IOException {
    Path file = modelWith(entries);
    ModelException e = assertThrows(ModelException.class, () -> OnnxModel.read(file));
    assertEquals("model file " + file + ": the external data of tensor '" + TENSOR + "' " + problem, e.getMessage());
  }

  @Test
  void aValidReferenceStillReads() throws IOException {
    Path file = modelWith(entries("location", DATA, "offset", "0", "length", "32768", "checksum", "ab12"));
    OnnxModel model = OnnxModel.read(file);
    float[] values = TensorValues.floats(model.proto().getGraph().getInitializer(0), file, model.directory());
    float[] expected = new float[64 * 128];
    java.nio.ByteBuffer.wrap(Files.readAllBytes(modelDir.resolve(DATA)), 0, 32768)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(expected);
    assertArrayEquals(expected, values);
  }

  @Test
  void aModelOpenedThroughALinkedDirectoryIsNotRejected() throws IOException {
    modelWith(entries("location", DATA, "offset", "0", "length", "32768"));
    Path alias = Files.createSymbolicLink(root.resolve("alias"), modelDir);
    OnnxModel.read(alias.resolve("model.onnx"));
  }

  @Test
  void dotDotLeavesTheDirectory() throws IOException {
    assertRejected(entries("location", "../secret.bin"), "has location '../secret.bin', which leaves the model's "
        + "directory " + modelDir + "; external data must be a file inside it");
    assertRejected(entries("location", "./sub/../../secret.bin"), "has location './sub/../../secret.bin', which "
        + "leaves the model's directory " + modelDir + "; external data must be a file inside it");
  }

  @Test
  void absolutePath() throws IOException {
    assertRejected(entries("location", secret.toString()), "has the absolute location '" + secret + "'; external "
        + "data must be a file inside the model's directory " + modelDir + ", named relative to it");
    assertRejected(entries("location", "C:\\secret.bin"), "has the absolute location 'C:\\secret.bin'; external "
        + "data must be a file inside the model's directory " + modelDir + ", named relative to it");
  }

  @Test
  void symbolicLinks() throws IOException {
    Files.createSymbolicLink(modelDir.resolve("link.bin"), Path.of("../secret.bin"));
    assertRejected(entries("location", "link.bin"), "has location 'link.bin', and " + modelDir.resolve("link.bin")
        + " is a symbolic link; links are not followed for external data: copy the data into the model's directory "
        + "as a plain file");
    Files.createSymbolicLink(modelDir.resolve("weights"), root);
    assertRejected(entries("location", "weights/secret.bin"), "has location 'weights/secret.bin', and "
        + modelDir.resolve("weights") + " is a symbolic link; links are not followed for external data: copy the "
        + "data into the model's directory as a plain file");
  }

  @Test
  void hardLink() throws IOException {
    Files.createLink(modelDir.resolve("hard.bin"), secret);
    assertRejected(entries("location", "hard.bin"), "has location 'hard.bin', a file with 2 hard links: it may be a "
        + "link to a file outside the model's directory, and links are not followed; copy the data into the model's "
        + "directory as a plain file (cp, not ln)");
  }

  @Test
  void offsetAndLengthMustBeInsideTheFile() throws IOException {
    Path data = modelDir.resolve(DATA);
    assertRejected(entries("location", DATA, "offset", "60000"), "has offset 60000, past the end of " + data
        + " (49152 bytes); the data file does not belong to this model or is truncated");
    assertRejected(entries("location", DATA, "offset", "32768", "length", "32768"), "has offset 32768 and length "
        + "32768, past the end of " + data + " (49152 bytes); the data file does not belong to this model or is "
        + "truncated");
  }

  @Test
  void nonNumericOffsetAndLength() throws IOException {
    assertRejected(entries("location", DATA, "offset", "abc"), "has offset 'abc', which is not a non-negative whole "
        + "number of bytes; the model file is corrupt: export it again");
    assertRejected(entries("location", DATA, "offset", "-8"), "has offset '-8', which is not a non-negative whole "
        + "number of bytes; the model file is corrupt: export it again");
    assertRejected(entries("location", DATA, "length", "1e4"), "has length '1e4', which is not a non-negative whole "
        + "number of bytes; the model file is corrupt: export it again");
  }

  @Test
  void unknownAndRepeatedKeys() throws IOException {
    assertRejected(entries("location", DATA, "basepath", "/"), "has the unknown key 'basepath' (known keys: location, "
        + "offset, length, checksum); the model was written by a tool that does not follow the ONNX format: save it "
        + "again with onnx");
    Path file = modelWith(entries("location", DATA));
    Onnx.ModelProto.Builder model = Onnx.ModelProto.parseFrom(Files.readAllBytes(file)).toBuilder();
    model.getGraphBuilder().getInitializerBuilder(0).addExternalData(
        Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue("../secret.bin"));
    Files.write(file, model.build().toByteArray());
    ModelException e = assertThrows(ModelException.class, () -> OnnxModel.read(file));
    assertEquals("model file " + file + ": the external data of tensor 'fc1.weight' has the key 'location' twice; "
        + "save the model again with onnx", e.getMessage());
  }

  @Test
  void missingLocationAndMissingFile() throws IOException {
    assertRejected(entries("offset", "0"), "names no location; the model file is corrupt: export it again");
    assertRejected(entries("location", "gone.bin"), "has location 'gone.bin', but " + modelDir.resolve("gone.bin")
        + " does not exist; keep the data file beside the model (same directory, same name)");
  }

  @Test
  void tensorsInSubgraphsAreCheckedToo() throws IOException {
    Path file = modelWith(entries("location", DATA, "offset", "0", "length", "32768"));
    Onnx.ModelProto.Builder model = Onnx.ModelProto.parseFrom(Files.readAllBytes(file)).toBuilder();
    Onnx.TensorProto hidden = Onnx.TensorProto.newBuilder().setName("hidden").setDataType(1).addDims(4)
        .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
        .addExternalData(Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue("../secret.bin"))
        .build();
    Onnx.GraphProto branch = Onnx.GraphProto.newBuilder().setName("branch").addNode(Onnx.NodeProto.newBuilder()
        .setOpType("Constant").addOutput("c").addAttribute(Onnx.AttributeProto.newBuilder().setName("value")
            .setType(Onnx.AttributeProto.AttributeType.TENSOR).setT(hidden))).build();
    model.getGraphBuilder().addNode(Onnx.NodeProto.newBuilder().setOpType("If").addInput("cond").addOutput("unused")
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("then_branch")
            .setType(Onnx.AttributeProto.AttributeType.GRAPH).setG(branch)));
    Files.write(file, model.build().toByteArray());
    ModelException e = assertThrows(ModelException.class, () -> OnnxModel.read(file));
    assertEquals("model file " + file + ": the external data of tensor 'hidden' has location '../secret.bin', which "
        + "leaves the model's directory " + modelDir + "; external data must be a file inside it", e.getMessage());
  }
}
