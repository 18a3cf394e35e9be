package dev.bitsweep.onnx.external;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.lm.LlmGenerator;
import dev.bitsweep.lm.LlmShape;
import dev.bitsweep.lm.RandomWeights;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ExternalDataWriterTest {
  private static final LlmShape SHAPE = new LlmShape(64, 2, 100);
  private static final long[] TOKENS = {1, 5, 99, 42, 7, 7, 0, 63};

  @Test
  void untouchedExternalSourcePackagesBitExactAndRunsTheSame(@TempDir Path dir) throws Exception {
    Path source = LlmGenerator.writeModel(SHAPE, 3, dir.resolve("src")).modelFile();
    Path pkg = dir.resolve("pkg/model.onnx");
    ExternalDataWriter.Result result = ExternalDataWriter.write(MappedModel.read(source), source.getParent(), Map.of(), pkg);
    assertEquals(2 + 2 * 4, result.externalTensors()); // the 256-byte LayerNorm vectors come back inline
    assertTensorsEqual(source, pkg, Map.of());
    assertAligned(pkg);
    assertArrayEquals(Ort.runLongs(source, "input_ids", TOKENS, 2, 4), Ort.runLongs(pkg, "input_ids", TOKENS, 2, 4));
    assertEquals(result.totalBytes(), ModelSize.totalBytes(pkg));
  }

  @Test
  void replacementsComeFromTheirFilesAndTheRestFromTheSource(@TempDir Path dir) throws Exception {
    Path source = LlmGenerator.writeModel(SHAPE, 3, dir.resolve("src")).modelFile();
    // a store file holding two tensors' bytes back to back: the second one starts mid-file
    Path store = dir.resolve("store/blob");
    Files.createDirectories(store.getParent());
    RandomWeights up = new RandomWeights(11, 64 * 256, 0f, 0.2f);
    RandomWeights head = new RandomWeights(12, 64 * 100, 0f, 0.2f);
    try (FileChannel out = FileChannel.open(store, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      up.copyTo(out);
      head.copyTo(out);
    }
    Map<String, ByteSource> replacements = Map.of(
        "blocks.1.mlp_up.weight", new FileRegion(store, 0, up.size()),
        "lm_head.weight", new FileRegion(store, up.size(), head.size()));
    Path pkg = dir.resolve("pkg/model.onnx");
    ExternalDataWriter.write(MappedModel.read(source), source.getParent(), replacements, pkg);
    assertTensorsEqual(source, pkg, Map.of("blocks.1.mlp_up.weight", bytesOf(up), "lm_head.weight", bytesOf(head)));
    assertAligned(pkg);
    float[] before = Ort.runLongs(source, "input_ids", TOKENS, 2, 4);
    float[] after = Ort.runLongs(pkg, "input_ids", TOKENS, 2, 4);
    assertEquals(before.length, after.length);
    assertFalse(java.util.Arrays.equals(before, after), "the replaced weights change the logits");
  }

  @Test
  void inlineSourceGoesExternalBitExact(@TempDir Path dir) throws Exception {
    Path source = writeInline(SHAPE, 5, dir.resolve("src/model.onnx"));
    Path pkg = dir.resolve("pkg/model.onnx");
    ExternalDataWriter.Result result = ExternalDataWriter.write(MappedModel.read(source), source.getParent(), Map.of(), pkg);
    // the 64-element LayerNorm vectors (256 bytes) stay inline under the 1 KiB limit
    assertEquals(2 + 2 * 4, result.externalTensors());
    assertTensorsEqual(source, pkg, Map.of());
    assertAligned(pkg);
    assertArrayEquals(Ort.runLongs(source, "input_ids", TOKENS, 2, 4), Ort.runLongs(pkg, "input_ids", TOKENS, 2, 4));
    assertEquals(Files.size(source), ModelSize.totalBytes(source));
  }

  /** Models saved by Debian's python3-onnx 1.12 with save_as_external_data (tools/fixtures/make_external_data_models.py). */
  @ParameterizedTest
  @ValueSource(strings = {"all", "big"})
  void onnxSavedExternalDataPackages(String variant, @TempDir Path dir) throws Exception {
    Path fixtures = Path.of(getClass().getResource("/external-data/input.npy").toURI()).getParent();
    Path sourceDir = dir.resolve("src");
    Files.createDirectories(sourceDir);
    try (Stream<Path> files = Files.list(fixtures.resolve(variant))) {
      for (Path f : files.toList()) {
        Files.copy(f, sourceDir.resolve(f.getFileName()));
      }
    }
    Path source = sourceDir.resolve("model.onnx");
    String dataName = variant.equals("all") ? "model.onnx.data" : "weights.bin";
    assertEquals(Files.size(source) + Files.size(sourceDir.resolve(dataName)), ModelSize.totalBytes(source));
    float[] input = NpyArray.read(fixtures.resolve("input.npy")).floats(0, 4);
    float[] expected = NpyArray.read(fixtures.resolve("expected.npy")).floats(0, 4);
    float[] sourceOut = Ort.runFloats(source, "x", input, 4, 64);
    assertArrayEquals(expected, sourceOut, 1e-5f);

    Path pkg = dir.resolve("pkg/model.onnx");
    ExternalDataWriter.Result result = ExternalDataWriter.write(MappedModel.read(source), sourceDir, Map.of(), pkg);
    assertTensorsEqual(source, pkg, Map.of());
    assertAligned(pkg);
    // w1 [64,128], w2 [128,16] and (all) the Constant's [16,16] = 1024 bytes go to our data file
    assertEquals(variant.equals("all") ? 3 : 2, result.externalTensors());
    assertArrayEquals(sourceOut, Ort.runFloats(pkg, "x", input, 4, 64));
    assertEquals(result.totalBytes(), ModelSize.totalBytes(pkg));
    assertEquals(List.of(pkg.resolveSibling("model.onnx.data").toAbsolutePath()),
        List.copyOf(ModelSize.externalFiles(pkg, MappedModel.read(pkg))));

    // the same with w1 replaced by zeros from a store file: y = b1-only path
    Path zeros = dir.resolve("zeros.bin");
    Files.write(zeros, new byte[64 * 128 * 4]);
    Path replaced = dir.resolve("pkg2/model.onnx");
    ExternalDataWriter.write(MappedModel.read(source), sourceDir, Map.of("w1", FileRegion.of(zeros)), replaced);
    float[] out = Ort.runFloats(replaced, "x", input, 4, 64);
    for (int row = 1; row < 4; row++) {
      for (int j = 0; j < 16; j++) {
        assertEquals(out[j], out[row * 16 + j], 0f, "with w1 = 0 every row gives the same output");
      }
    }
  }

  @Test
  void missingShortAndEscapingDataFilesNameTheTensor(@TempDir Path dir) throws Exception {
    Path source = LlmGenerator.writeModel(SHAPE, 3, dir.resolve("src")).modelFile();
    Onnx.ModelProto model = MappedModel.read(source);
    Path pkg = dir.resolve("pkg/model.onnx");

    Path data = source.resolveSibling("model.onnx.data");
    try (FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 10);
    }
    ModelException shortFile = assertThrows(ModelException.class,
        () -> ExternalDataWriter.write(model, source.getParent(), Map.of(), pkg));
    assertTrue(shortFile.getMessage().startsWith("tensor 'lm_head.weight': external data file " + data.toAbsolutePath()
        + " has "), shortFile.getMessage());
    assertTrue(shortFile.getMessage().contains("fewer than the tensor's offset"), shortFile.getMessage());
    assertNothingPublished(pkg);

    Files.delete(data);
    ModelException missing = assertThrows(ModelException.class,
        () -> ExternalDataWriter.write(model, source.getParent(), Map.of(), pkg));
    assertEquals("tensor 'embed.weight': external data file " + data.toAbsolutePath() + " does not exist (keep the data"
        + " file beside the model)", missing.getMessage());
    assertNothingPublished(pkg);

    Onnx.ModelProto.Builder escaping = model.toBuilder();
    Onnx.TensorProto.Builder embed = escaping.getGraphBuilder().getInitializerBuilder(0);
    embed.setExternalData(0, embed.getExternalData(0).toBuilder().setValue("../outside.bin"));
    ModelException outside = assertThrows(ModelException.class,
        () -> ExternalDataWriter.write(escaping.build(), source.getParent(), Map.of(), pkg));
    assertEquals("tensor 'embed.weight': external data location '../outside.bin' is outside the model's directory "
        + source.getParent().toAbsolutePath() + "; keep data files beside the model", outside.getMessage());
    assertNothingPublished(pkg);
  }

  @Test
  void replacementsOfTheWrongSizeOrNameAreRejected(@TempDir Path dir) throws Exception {
    Path source = LlmGenerator.writeModel(SHAPE, 3, dir.resolve("src")).modelFile();
    Onnx.ModelProto model = MappedModel.read(source);
    Path blob = dir.resolve("blob");
    Files.write(blob, new byte[1000]);
    Path pkg = dir.resolve("pkg/model.onnx");
    ModelException size = assertThrows(ModelException.class, () -> ExternalDataWriter.write(model, source.getParent(),
        Map.of("lm_head.weight", FileRegion.of(blob)), pkg));
    assertEquals("tensor 'lm_head.weight' [64, 100] FLOAT needs 25600 bytes but its replacement bytes has 1000: the"
        + " data does not belong to this tensor", size.getMessage());
    ModelException name = assertThrows(ModelException.class, () -> ExternalDataWriter.write(model, source.getParent(),
        Map.of("no.such.weight", FileRegion.of(blob)), pkg));
    assertTrue(name.getMessage().startsWith("replacement bytes for tensor 'no.such.weight' match no initializer"),
        name.getMessage());
    ModelException region = assertThrows(ModelException.class, () -> ExternalDataWriter.write(model, source.getParent(),
        Map.of("lm_head.weight", new FileRegion(blob, 0, 25600)), pkg));
    assertTrue(region.getMessage().startsWith("cannot copy the bytes of tensor 'lm_head.weight': "), region.getMessage());
    assertNothingPublished(pkg);
  }

  @Test
  void heapStaysBoundedPackagingExternalAndInlineSourcesSeveralTimesTheHeap(@TempDir Path dir) throws Exception {
    // external source: 318 MB of weights; two tensors replaced from store files
    LlmShape big = new LlmShape(1024, 6, 8000);
    Path source = LlmGenerator.writeModel(big, 7, dir.resolve("src")).modelFile();
    RandomWeights up = new RandomWeights(99, 1024L * 4096, 0f, 0.01f);
    Path upFile = dir.resolve("store/up.bin");
    writeFile(upFile, up);
    RandomWeights head = new RandomWeights(98, 1024L * 8000, 0f, 0.01f);
    Path headFile = dir.resolve("store/head.bin");
    writeFile(headFile, head);
    Path pkg = dir.resolve("pkg/model.onnx");
    Forked.Outcome outcome = Forked.run("64m", PackageForked.class, source.toString(), pkg.toString(),
        "blocks.3.mlp_up.weight=" + upFile, "lm_head.weight=" + headFile);
    assertEquals(0, outcome.exitCode(), outcome.output());
    System.out.println("package writer, external source (forked, -Xmx64m): " + outcome.output().replace('\n', ' '));
    long dataBytes = Long.parseLong(outcome.values().get("data_bytes"));
    assertTrue(dataBytes > 4 * Long.parseLong(outcome.values().get("max_heap_bytes")));
    assertEquals(Files.size(source.resolveSibling("model.onnx.data")), dataBytes, "same tensors, same alignment");
    assertTensorsEqual(source, pkg, Map.of("blocks.3.mlp_up.weight", Files.readAllBytes(upFile),
        "lm_head.weight", Files.readAllBytes(headFile)));
    deleteTree(dir.resolve("src"));
    deleteTree(dir.resolve("pkg"));

    // inline source: a 215 MB .onnx with every weight in raw_data, read through a memory map
    LlmShape inline = new LlmShape(512, 8, 32000);
    Path inlineSource = writeInline(inline, 8, dir.resolve("inline/model.onnx"));
    Forked.Outcome inlineOutcome = Forked.run("64m", PackageForked.class, inlineSource.toString(), pkg.toString());
    assertEquals(0, inlineOutcome.exitCode(), inlineOutcome.output());
    System.out.println("package writer, inline source (forked, -Xmx64m): " + inlineOutcome.output().replace('\n', ' '));
    assertTrue(Files.size(inlineSource) > 3 * Long.parseLong(inlineOutcome.values().get("max_heap_bytes")));
    assertTensorsEqual(inlineSource, pkg, Map.of());
    assertAligned(pkg);
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  /** Every initializer of {@code pkg} holds the bytes of the same-named one in {@code source}, or the replacement. */
  static void assertTensorsEqual(Path source, Path pkg, Map<String, byte[]> replaced) throws IOException {
    Map<String, byte[]> sourceBytes = tensorBytes(source);
    Map<String, byte[]> packageBytes = tensorBytes(pkg);
    assertEquals(sourceBytes.keySet(), packageBytes.keySet());
    for (Map.Entry<String, byte[]> e : sourceBytes.entrySet()) {
      byte[] expected = replaced.getOrDefault(e.getKey(), e.getValue());
      assertTrue(java.util.Arrays.equals(expected, packageBytes.get(e.getKey())), e.getKey() + " differs");
    }
  }

  /** Raw bytes of every initializer and Constant tensor, read independently of the writer (plain file reads). */
  static Map<String, byte[]> tensorBytes(Path model) throws IOException {
    Onnx.ModelProto proto = Onnx.ModelProto.parseFrom(Files.readAllBytes(model));
    Map<String, byte[]> out = new LinkedHashMap<>();
    List<Onnx.TensorProto> tensors = new java.util.ArrayList<>(proto.getGraph().getInitializerList());
    for (Onnx.NodeProto node : proto.getGraph().getNodeList()) {
      for (Onnx.AttributeProto a : node.getAttributeList()) {
        if (a.hasT()) {
          tensors.add(a.getT().toBuilder().setName("const:" + node.getName()).build());
        }
      }
    }
    for (Onnx.TensorProto t : tensors) {
      if (t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL) {
        Map<String, String> ext = new HashMap<>();
        t.getExternalDataList().forEach(x -> ext.put(x.getKey(), x.getValue()));
        long offset = Long.parseLong(ext.getOrDefault("offset", "0"));
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(Integer.parseInt(ext.get("length")));
        try (FileChannel in = FileChannel.open(model.resolveSibling(ext.get("location")))) {
          while (bytes.hasRemaining()) {
            if (in.read(bytes, offset + bytes.position()) < 0) {
              throw new java.io.EOFException(t.getName());
            }
          }
        }
        out.put(t.getName(), bytes.array());
      } else {
        out.put(t.getName(), t.getRawData().toByteArray());
      }
    }
    return out;
  }

  static void assertAligned(Path model) throws IOException {
    Onnx.ModelProto proto = Onnx.ModelProto.parseFrom(Files.readAllBytes(model));
    for (Onnx.TensorProto t : proto.getGraph().getInitializerList()) {
      for (Onnx.StringStringEntryProto e : t.getExternalDataList()) {
        if (e.getKey().equals("offset")) {
          assertEquals(0, Long.parseLong(e.getValue()) % 4096, t.getName());
        }
        if (e.getKey().equals("location")) {
          assertEquals("model.onnx.data", e.getValue());
        }
      }
    }
  }

  static Path writeInline(LlmShape shape, long seed, Path file) throws IOException {
    LlmGenerator.Model model = LlmGenerator.build(shape, seed);
    Onnx.ModelProto.Builder builder = model.proto().toBuilder();
    for (Onnx.TensorProto.Builder t : builder.getGraphBuilder().getInitializerBuilderList()) {
      t.setRawData(ByteString.copyFrom(bytesOf(model.weights().get(t.getName()))));
    }
    Files.createDirectories(file.getParent());
    try (OutputStream out = Files.newOutputStream(file)) {
      builder.build().writeTo(out);
    }
    return file;
  }

  static byte[] bytesOf(ByteSource source) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    source.copyTo(Channels.newChannel(out));
    return out.toByteArray();
  }

  private static void writeFile(Path file, ByteSource bytes) throws IOException {
    Files.createDirectories(file.getParent());
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      bytes.copyTo(out);
    }
  }

  private static void assertNothingPublished(Path pkg) throws IOException {
    assertFalse(Files.exists(pkg), pkg + " must not exist after a failure");
    assertFalse(Files.exists(pkg.resolveSibling("model.onnx.data")));
    if (Files.isDirectory(pkg.getParent())) {
      try (Stream<Path> left = Files.list(pkg.getParent())) {
        assertEquals(List.of(), left.toList(), "temporary files are removed");
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  void noExternalTensorsMeansNoDataFile(@TempDir Path dir) throws Exception {
    Path source = writeInline(new LlmShape(4, 1, 3), 1, dir.resolve("src/model.onnx"));
    ExternalDataWriter.Result result = ExternalDataWriter.write(MappedModel.read(source), source.getParent(), Map.of(),
        dir.resolve("pkg/model.onnx"));
    assertEquals(0, result.externalTensors());
    assertNull(result.dataFile());
    assertFalse(Files.exists(dir.resolve("pkg/model.onnx.data")));
    assertTensorsEqual(source, dir.resolve("pkg/model.onnx"), Map.of());
  }
}
