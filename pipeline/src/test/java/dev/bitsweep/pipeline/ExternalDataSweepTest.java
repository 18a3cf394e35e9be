package dev.bitsweep.pipeline;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.bitsweep.Fixtures;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.onnx.encode.OrtDecode;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sweeps of models with ONNX external data (and of an inline model forced to external output): every package is
 * model.onnx plus model.onnx.data, loads in ONNX Runtime by path, computes what its decoded weights compute, keeps
 * untouched tensors bit-exact, and its files add up to compressed_bytes; original_bytes counts the source's data.
 * The models are the fixtures of tools/fixtures/make_external_data_models.py (written by python3-onnx 1.12).
 */
class ExternalDataSweepTest {
  private static final Path FIXTURES = Fixtures.repositoryRoot().resolve("transforms/src/test/resources/external-data");
  private static final String CONFIGS = String.join("\n",
      "weight_threshold: 1000",
      "configs:",
      "  - id: int8",
      "    method: linear_quantize",
      "    mode: linear_symmetric",
      "    dtype: int8",
      "    granularity: per_channel",
      "  - id: int4",
      "    method: linear_quantize",
      "    mode: linear_symmetric",
      "    dtype: int4",
      "    granularity: per_channel",
      "");

  @TempDir Path work;
  private String consoleText;

  /** onnx 1.12 with size_threshold=0 and convert_attribute: every initializer and the Constant's tensor external. */
  @Test
  void allTensorsExternal() throws Exception {
    Path model = copyModel(FIXTURES.resolve("all"), "model.onnx.data");
    checkSweep(model, sweep(model, ""), List.of(model.resolveSibling("model.onnx.data")));
    assertTrue(consoleText.contains("  model   " + model + " (" + (Files.size(model)
        + Files.size(model.resolveSibling("model.onnx.data"))) + " bytes with external data, opset 17"), consoleText);
  }

  /** Only tensors of >= 1 KiB external, in a data file of another name; the biases stay inline. */
  @Test
  void onlyBigTensorsExternal() throws Exception {
    Path model = copyModel(FIXTURES.resolve("big"), "weights.bin");
    checkSweep(model, sweep(model, ""), List.of(model.resolveSibling("weights.bin")));
  }

  /** An inline source whose packages pass a forced 1-byte threshold: written with external data all the same. */
  @Test
  void inlineSourceAboveTheThreshold() throws Exception {
    Path dir = Files.createDirectories(work.resolve("model"));
    Path model = dir.resolve("model.onnx");
    Files.write(model, inline(FIXTURES.resolve("all/model.onnx")).toByteArray());
    checkSweep(model, sweep(model, "package_external_data_bytes: 1\n"), List.of());
  }

  /** The same inline source under the default threshold: one self-contained model.onnx, as before. */
  @Test
  void inlineSourceBelowTheThresholdStaysInline() throws Exception {
    Path dir = Files.createDirectories(work.resolve("model"));
    Path model = dir.resolve("model.onnx");
    Files.write(model, inline(FIXTURES.resolve("all/model.onnx")).toByteArray());
    Path out = sweep(model, "");
    for (Map<String, Object> run : query("SELECT * FROM " + table(out, "runs"))) {
      Path pkg = packageDir(out, (String) run.get("config_id"));
      assertFalse(Files.exists(pkg.resolve("model.onnx.data")), pkg.toString());
      assertEquals(Files.size(pkg.resolve("model.onnx")), ((Number) run.get("compressed_bytes")).longValue());
      assertFalse(new ObjectMapper().readTree(pkg.resolve("manifest.json").toFile()).has("external_data"));
      Onnx.ModelProto packaged = Onnx.ModelProto.parseFrom(Files.readAllBytes(pkg.resolve("model.onnx")));
      assertTrue(packaged.getGraph().getInitializerList().stream().noneMatch(ExternalDataSweepTest::isExternal));
    }
  }

  /**
   * The packager moves each encoded layer out of the heap when the source uses external data; its package is byte
   * for byte the one written from an inline copy of the source (whose encoded tensors stay in the heap until the
   * data file is written).
   */
  @Test
  void aSpilledPackageEqualsOneFromTheInlineSource() throws Exception {
    Path model = copyModel(FIXTURES.resolve("big"), "weights.bin");
    Path inlineModel = Files.createDirectories(work.resolve("inline")).resolve("model.onnx");
    Files.write(inlineModel, inline(model).toByteArray());
    dev.bitsweep.onnx.OnnxModel external = dev.bitsweep.onnx.OnnxModel.read(model);
    dev.bitsweep.onnx.OnnxModel inlined = dev.bitsweep.onnx.OnnxModel.read(inlineModel);
    List<dev.bitsweep.packaging.LayerWeights> layers = new ArrayList<>();
    for (dev.bitsweep.layer.Layer layer : dev.bitsweep.layer.LayerFinder.find(external.proto(), 1000).layers()) {
      var weights = dev.bitsweep.compress.LinearQuantizer.quantize(dev.bitsweep.compress.LinearQuantizeConfig.builder()
          .mode(dev.bitsweep.compress.LinearQuantizeConfig.Mode.LINEAR_SYMMETRIC)
          .dtype(dev.bitsweep.compress.QuantDtype.INT8)
          .granularity(dev.bitsweep.compress.LinearQuantizeConfig.Granularity.PER_CHANNEL).build(),
          dev.bitsweep.layer.WeightReader.read(external, layer));
      layers.add(new dev.bitsweep.packaging.LayerWeights(layer, weights, 0));
    }
    assertEquals(2, layers.size());
    var provenance = new dev.bitsweep.packaging.Provenance("v", "s", "int8", "m", "sha", 1, "e", null, Map.of(),
        List.of());
    Path spilled = work.resolve("spilled");
    Path kept = work.resolve("kept");
    dev.bitsweep.packaging.Packager.write(external, layers, provenance, spilled);
    dev.bitsweep.packaging.Packager.write(inlined, layers, provenance, kept, null, 1);
    for (String file : List.of("model.onnx", "model.onnx.data")) {
      assertArrayEquals(Files.readAllBytes(kept.resolve(file)), Files.readAllBytes(spilled.resolve(file)), file);
    }
    try (var left = Files.list(spilled)) {
      assertEquals(List.of("manifest.json", "model.onnx", "model.onnx.data"),
          left.map(p -> p.getFileName().toString()).sorted().toList(), "the scratch file is gone");
    }
  }

  private Path copyModel(Path fixture, String dataFile) throws Exception {
    Path dir = Files.createDirectories(work.resolve("model"));
    Files.copy(fixture.resolve("model.onnx"), dir.resolve("model.onnx"));
    Files.copy(fixture.resolve(dataFile), dir.resolve(dataFile));
    return dir.resolve("model.onnx");
  }

  private Path sweep(Path model, String extra) throws Exception {
    Path eval = Files.createDirectories(work.resolve("eval"));
    Files.copy(FIXTURES.resolve("input.npy"), eval.resolve("x.npy"));
    Path spec = work.resolve("sweep.yaml");
    Files.writeString(spec, "name: external\nmodel: " + model + "\ntask: agreement\neval_data: eval\nbatch_size: 3\n"
        + extra + CONFIGS);
    java.io.ByteArrayOutputStream console = new java.io.ByteArrayOutputStream();
    Path out = new SweepRunner(new java.io.PrintStream(console, true, java.nio.charset.StandardCharsets.UTF_8))
        .run(spec, Launch.embedded().withRunner("direct").withOut(work.resolve("out"))).out();
    consoleText = console.toString(java.nio.charset.StandardCharsets.UTF_8);
    System.out.print(consoleText);
    return out;
  }

  private static void checkSweep(Path model, Path out, List<Path> sourceData) throws Exception {
    long originalBytes = Files.size(model);
    for (Path data : sourceData) {
      originalBytes += Files.size(data);
    }
    Onnx.ModelProto source = inline(model);
    float[] input = npyFloats(FIXTURES.resolve("input.npy"));
    List<Map<String, Object>> runs = query("SELECT * FROM " + table(out, "runs") + " ORDER BY config_id");
    assertEquals(List.of("int4", "int8"), runs.stream().map(r -> r.get("config_id")).toList());
    for (Map<String, Object> run : runs) {
      String configId = (String) run.get("config_id");
      assertEquals("ok", run.get("status"), run.toString());
      assertEquals(originalBytes, ((Number) run.get("original_bytes")).longValue(), "original_bytes counts the data");
      Path pkg = packageDir(out, configId);
      Path packageModel = pkg.resolve("model.onnx");
      Path packageData = pkg.resolve("model.onnx.data");
      long packageBytes = Files.size(packageModel) + Files.size(packageData);
      long compressedBytes = ((Number) run.get("compressed_bytes")).longValue();
      assertEquals(packageBytes, compressedBytes, configId + ": compressed_bytes is model.onnx + model.onnx.data");
      assertEquals((double) compressedBytes / originalBytes, (Double) run.get("size_ratio"), 1e-12);
      assertTrue((Double) run.get("size_ratio") < 1, configId + " compresses: " + run);

      JsonNode manifest = new ObjectMapper().readTree(pkg.resolve("manifest.json").toFile());
      assertEquals("model.onnx.data", manifest.get("external_data").get("file").asText());
      assertEquals(Files.size(packageData), manifest.get("external_data").get("bytes").asLong());
      assertEquals(originalBytes, manifest.get("source_model").get("bytes").asLong());

      Onnx.ModelProto onDisk = Onnx.ModelProto.parseFrom(Files.readAllBytes(packageModel));
      int external = 0;
      for (Onnx.TensorProto tensor : onDisk.getGraph().getInitializerList()) {
        if (isExternal(tensor)) {
          Map<String, String> entries = entries(tensor);
          assertEquals("model.onnx.data", entries.get("location"), tensor.getName());
          assertEquals(0, Long.parseLong(entries.get("offset")) % 4096, tensor.getName() + " is 4 KiB aligned");
          external++;
        } else {
          assertTrue(tensor.getRawData().size() < 1024, tensor.getName() + " is small enough to stay inline");
        }
      }
      assertTrue(external >= 1, configId + " has external tensors");

      Onnx.ModelProto packaged = inline(packageModel);
      List<String> untouched = untouchedTensors(source, packaged);
      assertTrue(untouched.containsAll(List.of("b1", "b2")), untouched.toString());

      List<String> compressed = new ArrayList<>();
      manifest.get("layers").forEach(layer -> compressed.add(layer.get("layer").asText()));
      assertEquals(List.of("w1", "w2"), compressed.stream().sorted().toList());
      Map<String, float[]> decoded = new TreeMap<>();
      for (String weight : compressed) {
        decoded.put(weight, OrtDecode.decodeWeight(packaged.toByteArray(), weight));
      }
      Path reference = out.resolveSibling("decoded-" + configId + ".onnx");
      Files.write(reference, withWeights(source, decoded).toByteArray());
      float[] byPath = run(packageModel, input);
      assertArrayEquals(run(reference, input), byPath, configId + ": the package computes what its decoded weights do");
    }
  }

  /** The published package of a config: the directory under packages/ named by its id that holds a manifest. */
  private static Path packageDir(Path out, String configId) throws Exception {
    try (var walk = Files.walk(out.resolve("packages"))) {
      List<Path> found = walk.filter(p -> p.getFileName().toString().equals(configId))
          .filter(p -> Files.isRegularFile(p.resolve("manifest.json"))).toList();
      assertEquals(1, found.size(), configId + " has one package: " + found);
      return found.get(0);
    }
  }

  /** Initializers and Constant tensors of the source still in the package under their names: bit-exact. */
  private static List<String> untouchedTensors(Onnx.ModelProto source, Onnx.ModelProto packaged) {
    Map<String, ByteString> before = tensorBytes(source.getGraph());
    Map<String, ByteString> after = tensorBytes(packaged.getGraph());
    List<String> same = new ArrayList<>();
    for (Map.Entry<String, ByteString> tensor : before.entrySet()) {
      if (after.containsKey(tensor.getKey())) {
        assertEquals(tensor.getValue(), after.get(tensor.getKey()), tensor.getKey() + " is untouched, bit for bit");
        same.add(tensor.getKey());
      }
    }
    assertTrue(same.contains("c"), "the Constant's tensor is carried over: " + same);
    return same;
  }

  private static Map<String, ByteString> tensorBytes(Onnx.GraphProto graph) {
    Map<String, ByteString> bytes = new HashMap<>();
    graph.getInitializerList().forEach(t -> bytes.put(t.getName(), t.getRawData()));
    for (Onnx.NodeProto node : graph.getNodeList()) {
      if (node.getOpType().equals("Constant")) {
        node.getAttributeList().stream().filter(Onnx.AttributeProto::hasT)
            .forEach(a -> bytes.put(node.getOutput(0), a.getT().getRawData()));
      }
    }
    return bytes;
  }

  /** The source with these float weights in place of the compressed initializers. */
  private static Onnx.ModelProto withWeights(Onnx.ModelProto source, Map<String, float[]> weights) {
    Onnx.ModelProto.Builder model = source.toBuilder();
    Set<String> replaced = new java.util.HashSet<>();
    for (Onnx.TensorProto.Builder tensor : model.getGraphBuilder().getInitializerBuilderList()) {
      float[] values = weights.get(tensor.getName());
      if (values != null) {
        ByteBuffer raw = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        tensor.setRawData(ByteString.copyFrom(raw.array()));
        replaced.add(tensor.getName());
      }
    }
    assertEquals(weights.keySet(), replaced);
    return model.build();
  }

  /** An independent reader of external data: every external tensor of the main graph read into raw_data. */
  static Onnx.ModelProto inline(Path modelFile) throws Exception {
    Onnx.ModelProto.Builder model = Onnx.ModelProto.parseFrom(Files.readAllBytes(modelFile)).toBuilder();
    for (Onnx.TensorProto.Builder tensor : model.getGraphBuilder().getInitializerBuilderList()) {
      inlineTensor(tensor, modelFile.getParent());
    }
    for (Onnx.NodeProto.Builder node : model.getGraphBuilder().getNodeBuilderList()) {
      for (Onnx.AttributeProto.Builder attribute : node.getAttributeBuilderList()) {
        if (attribute.hasT()) {
          inlineTensor(attribute.getTBuilder(), modelFile.getParent());
        }
      }
    }
    return model.build();
  }

  private static void inlineTensor(Onnx.TensorProto.Builder tensor, Path dir) throws Exception {
    if (!isExternal(tensor)) {
      return;
    }
    Map<String, String> entries = entries(tensor.build());
    byte[] bytes = new byte[Integer.parseInt(entries.get("length"))];
    try (RandomAccessFile file = new RandomAccessFile(dir.resolve(entries.get("location")).toFile(), "r")) {
      file.seek(Long.parseLong(entries.getOrDefault("offset", "0")));
      file.readFully(bytes);
    }
    tensor.clearExternalData().clearDataLocation().setRawData(ByteString.copyFrom(bytes));
  }

  private static boolean isExternal(Onnx.TensorProtoOrBuilder tensor) {
    return tensor.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL;
  }

  private static Map<String, String> entries(Onnx.TensorProto tensor) {
    Map<String, String> entries = new HashMap<>();
    tensor.getExternalDataList().forEach(e -> entries.put(e.getKey(), e.getValue()));
    return entries;
  }

  /** Runs a model file in ONNX Runtime by path (so external data is resolved beside it) on x [4, 64]. */
  private static float[] run(Path model, float[] x) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = OrtDecode.sessionOptions();
        OrtSession session = env.createSession(model.toString(), options);
        OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {4, 64});
        OrtSession.Result result = session.run(Map.of("x", input))) {
      return OrtDecode.toFloats((OnnxTensor) result.get(0));
    }
  }

  private static float[] npyFloats(Path npy) throws Exception {
    byte[] bytes = Files.readAllBytes(npy);
    int headerLength = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
    ByteBuffer data = ByteBuffer.wrap(bytes, 10 + headerLength, bytes.length - 10 - headerLength)
        .order(ByteOrder.LITTLE_ENDIAN);
    float[] values = new float[data.remaining() / 4];
    data.asFloatBuffer().get(values);
    return values;
  }
}
