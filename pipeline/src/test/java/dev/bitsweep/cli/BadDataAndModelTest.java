package dev.bitsweep.cli;

import static dev.bitsweep.cli.CliRun.INT8;
import static dev.bitsweep.cli.CliRun.bitsweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad eval data values and hostile external-data references: exit code 2 with one exact line, nothing published, and
 * no byte of a file outside the model's directory anywhere under the out directory.
 */
class BadDataAndModelTest {
  @TempDir Path temp;


  private Path spec(Path model, Path evalData, String task) throws IOException {
    Path spec = temp.resolve("spec.yaml");
    Files.writeString(spec, "name: bad\nmodel: " + model + "\ntask: " + task + "\neval_data: " + evalData
        + "\nout: " + temp.resolve("out") + "\n" + INT8);
    return spec;
  }

  /** Runs the sweep and asserts exit 2 with exactly this error line and no published results. */
  private void expectBadInput(Path spec, String message) {
    CliRun.Outcome outcome = bitsweep("sweep", spec.toString());
    assertEquals(ExitCodes.BAD_INPUT, outcome.exitCode(), outcome.err() + outcome.out());
    assertEquals("bitsweep: error: " + message + System.lineSeparator(), outcome.err());
    assertFalse(Files.exists(temp.resolve("out").resolve("runs")), "no results may be published");
  }

  /** A copy of the digits eval split to damage. */
  private Path digitsEval() throws IOException {
    Path eval = Files.createDirectories(temp.resolve("eval"));
    for (String file : List.of("input.npy", "labels.npy")) {
      Files.copy(Fixtures.digits().resolve("eval").resolve(file), eval.resolve(file));
    }
    return eval;
  }

  private static Path digitsModel() {
    return Fixtures.digits().resolve("model.onnx");
  }

  /** Overwrites one element of a version-1 .npy file in place. */
  private static void patch(Path npy, long flatIndex, int width, ByteBuffer value) throws IOException {
    byte[] bytes = Files.readAllBytes(npy);
    assertEquals(1, bytes[6], "npy format version");
    int headerLength = ByteBuffer.wrap(bytes, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
    int at = 10 + headerLength + (int) flatIndex * width;
    value.flip();
    value.get(bytes, at, width);
    Files.write(npy, bytes);
  }

  private static ByteBuffer float32(float value) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value);
  }

  private static ByteBuffer int64(long value) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
  }

  @Test
  void nanAndInfinityInputsNameTheFileAndTheFirstBadSample() throws IOException {
    Path eval = digitsEval();
    patch(eval.resolve("input.npy"), 17 * 64 + 5, 4, float32(Float.NaN));
    patch(eval.resolve("input.npy"), 30 * 64, 4, float32(Float.POSITIVE_INFINITY));
    expectBadInput(spec(digitsModel(), eval, "classification"), "data file " + eval.resolve("input.npy")
        + " holds NaN at sample 17 (flat index 1093): every input value must be finite; fix the data or its "
        + "preprocessing (numpy.isfinite(arr).all() must be True)");
    patch(eval.resolve("input.npy"), 17 * 64 + 5, 4, float32(0));
    patch(eval.resolve("input.npy"), 3 * 64 + 63, 4, float32(Float.NEGATIVE_INFINITY));
    expectBadInput(spec(digitsModel(), eval, "classification"), "data file " + eval.resolve("input.npy")
        + " holds -Infinity at sample 3 (flat index 255): every input value must be finite; fix the data or its "
        + "preprocessing (numpy.isfinite(arr).all() must be True)");
  }

  @Test
  void labelsOutsideTheModelsClasses() throws IOException {
    Path eval = digitsEval();
    patch(eval.resolve("labels.npy"), 4, 8, int64(15));
    expectBadInput(spec(digitsModel(), eval, "classification"), "labels file " + eval.resolve("labels.npy")
        + " has label 15 at sample 4 but the model's output 'logits' has 10 classes: labels must be class indices 0..9");
    patch(eval.resolve("labels.npy"), 0, 8, int64(-1));
    expectBadInput(spec(digitsModel(), eval, "classification"), "labels file " + eval.resolve("labels.npy")
        + " has label -1 at sample 0 but the model's output 'logits' has 10 classes: labels must be class indices 0..9");
  }

  @Test
  void aStrayNpyFileIsAnError() throws IOException {
    Path eval = digitsEval();
    Files.copy(eval.resolve("input.npy"), eval.resolve("foo.npy"));
    expectBadInput(spec(digitsModel(), eval, "classification"), "data file " + eval.resolve("foo.npy")
        + " names no model input: the model's inputs are [input] and labels.npy holds the labels; remove or rename the "
        + "file (a stray file may be data meant for another model)");
  }

  @Test
  void aStrayNpyBesideTheOnnxTestDataLayoutIsAnError() throws IOException {
    Path layout = Fixtures.resource("data/digits-onnx-layout/eval");
    Path eval = temp.resolve("onnx-layout");
    try (Stream<Path> files = Files.walk(layout)) {
      for (Path file : files.toList()) {
        Files.copy(file, eval.resolve(layout.relativize(file).toString()));
      }
    }
    Files.copy(Fixtures.digits().resolve("eval/input.npy"), eval.resolve("input.npy"));
    expectBadInput(spec(digitsModel(), eval, "classification"), "data file " + eval.resolve("input.npy")
        + " mixes the two data layouts: " + eval + " holds test_data_set_* directories, so its only .npy files may be "
        + "labels; move the file elsewhere");
  }

  @Test
  void evalDataThatIsAFileSaysSo() throws IOException {
    Path file = digitsEval().resolve("input.npy");
    expectBadInput(spec(digitsModel(), file, "classification"), "data directory " + file + " is a file, not a "
        + "directory: name the directory that holds one <input name>.npy per model input (e.g. " + file.getParent()
        + "; see calibration-data/README.md)");
  }

  @Test
  void pickledLabelsGetLabelAdvice() throws IOException {
    Path eval = digitsEval();
    String header = "{'descr': '|O', 'fortran_order': False, 'shape': (540,), }";
    header += " ".repeat(63 - (10 + header.length()) % 64) + "\n";
    ByteBuffer npy = ByteBuffer.allocate(10 + header.length() + 32).order(ByteOrder.LITTLE_ENDIAN);
    npy.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
        .putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).put(new byte[] {(byte) 0x80, 2});
    Files.write(eval.resolve("labels.npy"), npy.array());
    expectBadInput(spec(digitsModel(), eval, "classification"), "data file " + eval.resolve("labels.npy")
        + " holds a pickled object array, not numeric data: save a numeric array (numpy.save(path, "
        + "arr.astype(numpy.int64), allow_pickle=False))");
  }

  /** The external-data model beside its data, with fc1.weight's location replaced; its eval data; a secret outside. */
  @Test
  void externalDataOutsideTheModelsDirectoryIsNeverRead() throws IOException {
    Path models = Fixtures.repositoryRoot().resolve("transforms/src/test/resources/models");
    Path root = temp.toRealPath();
    Path modelDir = Files.createDirectories(root.resolve("model"));
    Files.copy(models.resolve("external_data_opset13.onnx.data"), modelDir.resolve("external_data_opset13.onnx.data"));
    byte[] secretBytes = new byte[64 * 128 * 4];
    new Random(2026).nextBytes(secretBytes);
    Path secret = root.resolve("secret.bin");
    Files.write(secret, secretBytes);
    Files.createSymbolicLink(modelDir.resolve("link.bin"), secret);
    Files.createLink(modelDir.resolve("hard.bin"), secret);
    Path eval = Files.createDirectories(root.resolve("eval"));
    writeFloat32Npy(eval.resolve("x.npy"), 8, 64);
    byte[] template = Files.readAllBytes(models.resolve("external_data_opset13.onnx"));
    String prefix = "model file " + modelDir.resolve("model.onnx") + ": the external data of tensor 'fc1.weight' ";
    String[][] cases = {
        {"../secret.bin", "has location '../secret.bin', which leaves the model's directory " + modelDir
            + "; external data must be a file inside it"},
        {secret.toString(), "has the absolute location '" + secret + "'; external data must be a file inside the "
            + "model's directory " + modelDir + ", named relative to it"},
        {"link.bin", "has location 'link.bin', and " + modelDir.resolve("link.bin") + " is a symbolic link; links "
            + "are not followed for external data: copy the data into the model's directory as a plain file"},
        {"hard.bin", "has location 'hard.bin', a file with 2 hard links: it may be a link to a file outside the "
            + "model's directory, and links are not followed; copy the data into the model's directory as a plain "
            + "file (cp, not ln)"}};
    for (String[] c : cases) {
      var model = dev.bitsweep.onnx.proto.Onnx.ModelProto.parseFrom(template).toBuilder();
      var tensor = model.getGraphBuilder().getInitializerBuilder(0);
      tensor.clearExternalData().addExternalData(dev.bitsweep.onnx.proto.Onnx.StringStringEntryProto.newBuilder()
          .setKey("location").setValue(c[0]));
      Files.write(modelDir.resolve("model.onnx"), model.build().toByteArray());
      expectBadInput(spec(modelDir.resolve("model.onnx"), eval, "agreement"), prefix + c[1]);
      assertNoBytesOf(secretBytes, temp.resolve("out"));
    }
  }

  /**
   * The all-external fixture (onnx 1.12: w1, b1, w2, b2 and the Constant 'mix' in model.onnx.data, in that order)
   * with its data file missing, cut inside w1, or (with the length entries dropped, as onnx may write them) cut by
   * 4 bytes inside the last tensor: exit 2 naming the tensor, nothing published.
   */
  @Test
  void externalDataMissingOrShorterThanATensor() throws IOException {
    Path fixture = Fixtures.repositoryRoot().resolve("transforms/src/test/resources/external-data/all");
    Path root = temp.toRealPath();
    Path modelDir = Files.createDirectories(root.resolve("model"));
    Path model = modelDir.resolve("model.onnx");
    Path data = modelDir.resolve("model.onnx.data");
    Files.copy(fixture.resolve("model.onnx"), model);
    Path eval = Files.createDirectories(root.resolve("eval"));
    writeFloat32Npy(eval.resolve("x.npy"), 4, 64);
    Path spec = spec(model, eval, "agreement");
    String prefix = "model file " + model + ": the external data of tensor ";

    expectBadInput(spec, prefix + "'w1' has location 'model.onnx.data', but " + data + " does not exist; keep the data"
        + " file beside the model (same directory, same name)");

    byte[] bytes = Files.readAllBytes(fixture.resolve("model.onnx.data"));
    Files.write(data, java.util.Arrays.copyOf(bytes, 1000));
    expectBadInput(spec, prefix + "'w1' has offset 0 and length 32768, past the end of " + data + " (1000 bytes);"
        + " the data file does not belong to this model or is truncated");

    var withoutLengths = dev.bitsweep.onnx.proto.Onnx.ModelProto.parseFrom(Files.readAllBytes(model)).toBuilder();
    withoutLengths.getGraphBuilder().getInitializerBuilderList().forEach(BadDataAndModelTest::dropLength);
    withoutLengths.getGraphBuilder().getNodeBuilderList().forEach(node -> node.getAttributeBuilderList().stream()
        .filter(a -> a.hasT()).forEach(a -> dropLength(a.getTBuilder())));
    Files.write(model, withoutLengths.build().toByteArray());
    Files.write(data, java.util.Arrays.copyOf(bytes, bytes.length - 4));
    expectBadInput(spec, prefix + "'mix' needs 1024 bytes from offset 41536, past the end of " + data + " ("
        + (bytes.length - 4) + " bytes); the data file does not belong to this model or is truncated");
  }

  private static void dropLength(dev.bitsweep.onnx.proto.Onnx.TensorProto.Builder tensor) {
    var kept = tensor.getExternalDataList().stream().filter(e -> !e.getKey().equals("length")).toList();
    tensor.clearExternalData().addAllExternalData(kept);
  }

  private static void writeFloat32Npy(Path file, int rows, int cols) throws IOException {
    String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
    header += " ".repeat(63 - (10 + header.length()) % 64) + "\n";
    ByteBuffer npy = ByteBuffer.allocate(10 + header.length() + rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
    npy.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
        .putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; i < rows * cols; i++) {
      npy.putFloat((i % 7) / 7f);
    }
    Files.write(file, npy.array());
  }

  /** No 16-byte window of the secret occurs in any file under {@code dir} (if it exists at all). */
  private static void assertNoBytesOf(byte[] secret, Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    String needle = new String(secret, 0, 16, StandardCharsets.ISO_8859_1);
    String middle = new String(secret, secret.length / 2, 16, StandardCharsets.ISO_8859_1);
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        String content = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        assertFalse(content.contains(needle) || content.contains(middle), file + " holds bytes of the secret");
      }
    }
  }
}
