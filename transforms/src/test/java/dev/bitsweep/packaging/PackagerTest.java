package dev.bitsweep.packaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.TestModels;
import dev.bitsweep.calibrate.RoundToNearest;
import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.DenseWeights;
import dev.bitsweep.compress.LinearQuantizeConfig;
import dev.bitsweep.compress.LinearQuantizer;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.ScaleDtype;
import dev.bitsweep.compress.WeightError;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.layer.LayerInventory;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.encode.OrtDecode;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packager on the float16 fixture (x -> Cast(fp16) -> MatMul(fc1 fp16) -> Relu -> MatMul(fc2 fp16) -> Cast ->
 * y), checked by reading the written graph and manifest back and by running the package in ONNX Runtime.
 */
class PackagerTest {
  private static final int FLOAT16 = DataType.FLOAT16;
  private static final OnnxModel MODEL = OnnxModel.read(TestModels.model("fp16_weights_opset17.onnx"));
  private static final LayerInventory INVENTORY = LayerFinder.find(MODEL.proto(), LayerFinder.DEFAULT_WEIGHT_THRESHOLD);

  @TempDir Path dir;

  private static List<LayerWeights> each(Function<WeightMatrix, CompressedWeights> compress) {
    List<LayerWeights> layers = new ArrayList<>();
    for (Layer layer : INVENTORY.layers()) {
      WeightMatrix original = WeightReader.read(MODEL, layer);
      CompressedWeights weights = compress.apply(original);
      layers.add(new LayerWeights(layer, weights, WeightError.snrDb(original, weights.decompress())));
    }
    return layers;
  }

  private static CompressedWeights int8PerChannel(WeightMatrix weights) {
    return LinearQuantizer.quantize(LinearQuantizeConfig.builder().mode(LinearQuantizeConfig.Mode.LINEAR_SYMMETRIC)
        .dtype(QuantDtype.INT8).granularity(LinearQuantizeConfig.Granularity.PER_CHANNEL).build(), weights);
  }

  private static Provenance provenance(String configId) {
    return new Provenance("test-version", "sweep-1234", configId, MODEL.path().toString(), MODEL.sha256(),
        MODEL.fileBytes(), "eval-sha", null, Map.of("global", Map.of("method", "linear_quantize")),
        INVENTORY.skipped());
  }

  private static long count(Onnx.GraphProto graph, String opType) {
    return graph.getNodeList().stream().filter(n -> n.getOpType().equals(opType)).count();
  }

  private static List<Onnx.NodeProto> producers(Onnx.GraphProto graph, String tensor) {
    return graph.getNodeList().stream().filter(n -> n.getOutputList().contains(tensor)).toList();
  }

  private static float[] run(Path model) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[] x = new float[3 * 64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.sin(0.37 * i);
    }
    try (OrtSession.SessionOptions options = OrtDecode.sessionOptions();
        OrtSession session = env.createSession(model.toString(), options);
        OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {3, 64});
        OrtSession.Result result = session.run(Map.of(session.getInputNames().iterator().next(), input))) {
      float[][] y = (float[][]) result.get(0).getValue();
      float[] flat = new float[3 * 32];
      for (int r = 0; r < 3; r++) {
        System.arraycopy(y[r], 0, flat, r * 32, 32);
      }
      return flat;
    }
  }

  @Test
  void anFp16Int8PackageCastsEachWeightOnceAndOnnxRuntimeRunsIt() throws Exception {
    assertEquals(2, INVENTORY.layers().size(), "fc1.weight and fc2.weight");
    List<LayerWeights> quantized = each(PackagerTest::int8PerChannel);
    Packager.Written written = Packager.write(MODEL, quantized, provenance("int8"), dir.resolve("int8"));

    Onnx.GraphProto graph = OnnxModel.read(written.modelFile()).proto().getGraph();
    assertEquals(count(MODEL.proto().getGraph(), "Cast") + 2, count(graph, "Cast"), "one new Cast per weight");
    for (Layer layer : INVENTORY.layers()) {
      List<Onnx.NodeProto> producer = producers(graph, layer.tensorName());
      assertEquals(1, producer.size(), layer.name());
      assertEquals("Cast", producer.get(0).getOpType(), layer.name());
      long to = producer.get(0).getAttributeList().stream().filter(a -> a.getName().equals("to")).findFirst()
          .orElseThrow().getI();
      assertEquals(FLOAT16, to, layer.name() + " keeps its float16 type");
      for (String input : producer.get(0).getInputList()) {
        producers(graph, input).forEach(p -> assertTrue(!p.getOpType().equals("Cast"),
            layer.name() + " is cast twice: " + p.getName() + " feeds " + producer.get(0).getName()));
      }
    }

    // The same decompressed weights stored dense as float16: ONNX Runtime must compute exactly the same outputs.
    List<LayerWeights> dense = quantized.stream()
        .map(l -> new LayerWeights(l.layer(), new DenseWeights(l.weights().decompress()), l.weightSnrDb())).toList();
    Packager.Written reference = Packager.write(MODEL, dense, provenance("dense"), dir.resolve("dense"));
    byte[] packagedBytes = Files.readAllBytes(written.modelFile());
    byte[] referenceBytes = Files.readAllBytes(reference.modelFile());
    for (Layer layer : INVENTORY.layers()) {
      assertArrayEquals(OrtDecode.decodeWeight(referenceBytes, layer.tensorName()),
          OrtDecode.decodeWeight(packagedBytes, layer.tensorName()), layer.name());
    }
    float[] y = run(written.modelFile());
    assertArrayEquals(run(reference.modelFile()), y);
    float[] original = run(MODEL.path());
    double snr = WeightError.snrDb(original, y);
    assertTrue(snr > 30, "int8 per channel keeps the output: " + snr + " dB");
  }

  @Test
  void nBitCodesAndFloat16ScalesArePackagedAtTheirWidthAndDecodeExactly() throws Exception {
    long params = 64 * 128 + 128 * 32;
    int rows = 128 + 32; // output channels of fc1 and fc2
    Map<String, Function<WeightMatrix, CompressedWeights>> configs = new java.util.LinkedHashMap<>();
    configs.put("rtn 3-bit per channel", w -> RoundToNearest.quantize(w, 3, 0, true));
    configs.put("rtn 5-bit g32 asymmetric float16 scales", w -> RoundToNearest.quantize(w, 5, 32, false,
        ScaleDtype.FLOAT16));
    configs.put("int4 per-block 32 float16 scales", w -> LinearQuantizer.quantize(LinearQuantizeConfig.builder()
        .dtype(QuantDtype.INT4).perBlock(32).scaleDtype(ScaleDtype.FLOAT16).build(), w));
    // codes at their width + scales (+ zero points at the code width), per the formula, not payloadBytes()
    Map<String, Long> formula = Map.of(
        "rtn 3-bit per channel", params * 3 / 8 + rows * 4L,
        "rtn 5-bit g32 asymmetric float16 scales", params * 5 / 8 + (params / 32) * 2 + (params / 32) * 5 / 8,
        "int4 per-block 32 float16 scales", params * 4 / 8 + (params / 32) * 2);
    int n = 0;
    for (var config : configs.entrySet()) {
      List<LayerWeights> layers = each(config.getValue());
      Path at = dir.resolve("n" + n++);
      Packager.Written written = Packager.write(MODEL, layers, provenance(config.getKey()), at);
      long expected = formula.get(config.getKey());
      long payload = layers.stream().mapToLong(l -> l.weights().payloadBytes()).sum();
      assertEquals(expected, payload, config.getKey() + ": payload");
      // decode nodes (about 50 bytes each), names and the Casts back to float16: at most 2560 bytes per layer, as in
      // CodeWidthTest (up to three bit planes and packed zero points; the byte tables are shared by the two layers)
      assertTrue(written.storedBytes() >= expected && written.storedBytes() <= expected + 2 * 2560,
          config.getKey() + ": stored " + written.storedBytes() + " bytes, formula " + expected);
      assertEquals(8.0 * written.storedBytes() / params, written.bitsPerWeight(), 0.0);
      List<LayerWeights> dense = layers.stream()
          .map(l -> new LayerWeights(l.layer(), new DenseWeights(l.weights().decompress()), l.weightSnrDb())).toList();
      Packager.Written reference = Packager.write(MODEL, dense, provenance("dense"), at.resolveSibling("dense" + n));
      byte[] packagedBytes = Files.readAllBytes(written.modelFile());
      byte[] referenceBytes = Files.readAllBytes(reference.modelFile());
      for (Layer layer : INVENTORY.layers()) {
        assertArrayEquals(OrtDecode.decodeWeight(referenceBytes, layer.tensorName()),
            OrtDecode.decodeWeight(packagedBytes, layer.tensorName()), config.getKey() + " " + layer.name());
      }
      assertArrayEquals(run(reference.modelFile()), run(written.modelFile()), config.getKey());
    }
  }

  @Test
  void aLayerThatStaysDensePackagesWithItsOwnValuesAndType() throws Exception {
    Packager.Written written = Packager.write(MODEL, each(DenseWeights::new), provenance("dense"), dir.resolve("p"));

    Onnx.GraphProto graph = OnnxModel.read(written.modelFile()).proto().getGraph();
    assertEquals(count(MODEL.proto().getGraph(), "Cast"), count(graph, "Cast"), "a dense weight needs no Cast");
    byte[] originalBytes = Files.readAllBytes(MODEL.path());
    byte[] packagedBytes = Files.readAllBytes(written.modelFile());
    for (Layer layer : INVENTORY.layers()) {
      Onnx.TensorProto stored = graph.getInitializerList().stream()
          .filter(t -> t.getName().equals(layer.tensorName())).findFirst().orElseThrow();
      assertEquals(FLOAT16, stored.getDataType(), layer.name());
      assertArrayEquals(OrtDecode.decodeWeight(originalBytes, layer.tensorName()),
          OrtDecode.decodeWeight(packagedBytes, layer.tensorName()), layer.name());
    }
    assertArrayEquals(run(MODEL.path()), run(written.modelFile()));
    assertTrue(written.encodings().stream().allMatch(e -> e.encoding().startsWith("dense")), written.toString());
  }

  @Test
  void theManifestRecordsProvenanceAndEveryLayersEncoding() throws Exception {
    Packager.Written written = Packager.write(MODEL, each(PackagerTest::int8PerChannel), provenance("int8"),
        dir.resolve("int8"));
    JsonNode manifest = new ObjectMapper().readTree(dir.resolve("int8").resolve(Packager.MANIFEST_FILE).toFile());
    assertEquals("int8", manifest.get("config_id").asText());
    assertEquals("sweep-1234", manifest.get("sweep_id").asText());
    assertEquals(MODEL.sha256(), manifest.at("/source_model/sha256").asText());
    assertEquals(MODEL.fileBytes(), manifest.at("/source_model/bytes").asLong());
    assertEquals(17, manifest.at("/source_model/opset").asInt());
    assertEquals(17, manifest.at("/requires/default_opset").asInt());
    assertEquals(written.minOpset(), manifest.at("/requires/encodings_min_opset").asInt());
    assertTrue(manifest.get("calibration_data_sha256").isNull());
    assertEquals("linear_quantize", manifest.at("/config/global/method").asText());
    assertEquals(2, manifest.get("layers").size());
    long stored = 0;
    for (int i = 0; i < 2; i++) {
      JsonNode entry = manifest.get("layers").get(i);
      Layer layer = INVENTORY.layers().get(i);
      assertEquals(layer.name(), entry.get("layer").asText());
      assertEquals(written.encodings().get(i).encoding(), entry.get("encoding").asText());
      assertEquals(written.encodings().get(i).storedBytes(), entry.get("stored_bytes").asLong());
      stored += entry.get("stored_bytes").asLong();
    }
    assertEquals(stored, written.storedBytes());
    assertEquals(64 * 128 + 128 * 32, written.params());
    assertEquals(8.0 * stored / written.params(), written.bitsPerWeight(), 0.0);
    assertEquals(Files.size(written.modelFile()), written.fileBytes());
    assertEquals(INVENTORY.skipped().size(), manifest.get("skipped").size());
    try (var files = Files.list(dir.resolve("int8"))) {
      assertEquals(List.of("manifest.json", "model.onnx"),
          files.map(f -> f.getFileName().toString()).sorted().toList(), "no temporary file is left");
    }
  }

  @Test
  void nothingToPackageOrNowhereToWriteIsAClearError() throws Exception {
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> Packager.write(MODEL, List.of(), provenance("none"), dir.resolve("none")));
    assertTrue(empty.getMessage().contains("at least one compressed layer"), empty.getMessage());
    Path file = Files.writeString(dir.resolve("occupied"), "not a directory");
    UncheckedIOException blocked = assertThrows(UncheckedIOException.class,
        () -> Packager.write(MODEL, each(PackagerTest::int8PerChannel), provenance("int8"), file));
    assertTrue(blocked.getMessage().contains("cannot write the package of int8 to " + file), blocked.getMessage());
  }

  /** Above the external-data threshold the same package is model.onnx + model.onnx.data, and computes the same. */
  @Test
  void aPackageAboveTheThresholdUsesExternalData() throws Exception {
    List<LayerWeights> layers = each(PackagerTest::int8PerChannel);
    Packager.Written inline = Packager.write(MODEL, layers, provenance("int8"), dir.resolve("inline"));
    Packager.Written external = Packager.write(MODEL, layers, provenance("int8"), dir.resolve("external"), null, 1);
    assertEquals(null, inline.dataFile());
    assertEquals(dir.resolve("external").resolve(Packager.DATA_FILE), external.dataFile());
    assertEquals(Files.size(external.modelFile()) + Files.size(external.dataFile()), external.fileBytes());
    assertTrue(Files.size(external.modelFile()) < Files.size(inline.modelFile()), "the big tensors left model.onnx");
    JsonNode manifest = new ObjectMapper().readTree(dir.resolve("external").resolve(Packager.MANIFEST_FILE).toFile());
    assertEquals(Packager.DATA_FILE, manifest.get("external_data").get("file").asText());
    assertEquals(Files.size(external.dataFile()), manifest.get("external_data").get("bytes").asLong());
    assertArrayEquals(run(inline.modelFile()), run(external.modelFile()));
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> Packager.write(MODEL, layers, provenance("int8"), dir.resolve("zero"), null, 0));
    assertEquals("the external-data threshold must be at least 1 byte, got 0", zero.getMessage());
  }
}
