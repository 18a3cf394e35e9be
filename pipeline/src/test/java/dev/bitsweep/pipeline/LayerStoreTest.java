package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.cluster.Launch;
import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.lm.LlmGenerator;
import dev.bitsweep.lm.LlmShape;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.packaging.LayerWeights;
import dev.bitsweep.packaging.Packager;
import dev.bitsweep.packaging.Provenance;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The layer store: compressed weights go to {@code <staging>/layers/<sha256>}, the elements after CompressLayers carry
 * only their key, and packages are byte for byte what the packager writes from the weights themselves.
 */
class LayerStoreTest {
  /** dim 64, 1 block, vocab 4096: the embedding and lm_head have 262144 weights each (1 MiB in fp32). */
  private static final LlmShape SHAPE = new LlmShape(64, 1, 4096);
  private static final String CONFIGS = String.join("\n",
      "weight_threshold: 1000",
      "configs:",
      "  - id: int8",
      "    method: linear_quantize",
      "    mode: linear_symmetric",
      "    dtype: int8",
      "    granularity: per_channel",
      "  - id: int4-block32",
      "    method: linear_quantize",
      "    mode: linear_symmetric",
      "    dtype: int4",
      "    granularity: per_block",
      "    block_size: 32",
      "");
  /** Encoded sizes of CompressLayers' output elements by (config, layer), filled by {@link SizeFn}. */
  static final Map<String, Integer> ELEMENT_BYTES = new ConcurrentHashMap<>();

  @TempDir Path work;

  @Test
  void putIsContentAddressedAndIdempotent() throws Exception {
    String staging = work.resolve("staging").toString();
    StagingAreas.create(Path.of(staging));
    WeightMatrix matrix = WeightReader.read(OnnxModel.read(model()), plan().inventory().layers().get(0));
    CompressedWeights weights = Methods.ALL.compress(plan().tasks().get(0).config(), matrix, null, "test").weights();
    String key = LayerStore.put(staging, weights);
    assertEquals(key, LayerStore.put(staging, weights), "the same weights give the same key");
    Path dir = Path.of(staging, LayerStore.DIRECTORY);
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of(dir.resolve(key)), files.toList(), "one entry, no temporary file left");
    }
    assertEquals(key, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(Files.readAllBytes(dir.resolve(key)))), "the key is the sha256 of the entry's bytes");
    assertArrayEquals(weights.decompress().values(), LayerStore.get(staging, key).decompress().values());

    byte[] damaged = Files.readAllBytes(dir.resolve(key));
    damaged[damaged.length - 1] ^= 1;
    Files.write(dir.resolve(key), damaged);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> LayerStore.get(staging, key));
    assertTrue(e.getMessage().contains("is damaged"), e.getMessage());
    IllegalStateException missing = assertThrows(IllegalStateException.class, () -> LayerStore.get(staging, "ab12"));
    assertTrue(missing.getMessage().contains("is missing from the sweep's staging area"), missing.getMessage());

    Publisher.deleteRecursively(Path.of(staging));
    IllegalStateException stopped = assertThrows(IllegalStateException.class, () -> LayerStore.put(staging, weights));
    assertEquals("the staging area " + staging + " was removed: the sweep is stopping", stopped.getMessage());
    assertFalse(Files.exists(Path.of(staging)), "a stopped sweep's staging area is not recreated");
  }

  /** What goes into the shuffle to PackageModels: a few hundred bytes per layer, whatever the layer's size. */
  @Test
  void compressLayersEmitsKeysNotWeights() throws Exception {
    PlannedSweep sweep = plan();
    StagingAreas.create(sweep.staging());
    ELEMENT_BYTES.clear();
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.fromArgs("--runner=DirectRunner").create());
    pipeline.apply(CompressLayers.of(sweep.plan(), sweep.tasks())).apply(ParDo.of(new SizeFn()));
    pipeline.run().waitUntilFinish();

    assertEquals(sweep.tasks().size(), ELEMENT_BYTES.size());
    OnnxModel model = OnnxModel.read(model());
    for (LayerTask task : sweep.tasks()) {
      int bytes = ELEMENT_BYTES.get(task.configId() + "/" + task.layer().name());
      assertTrue(bytes < 2048, task + ": element of " + bytes + " bytes");
      CompressedWeights direct = Methods.ALL.compress(task.config(), WeightReader.read(model, task.layer()), null,
          "test").weights();
      String key = LayerStore.put(sweep.staging().toString(), direct);
      assertTrue(Files.isRegularFile(sweep.staging().resolve(LayerStore.DIRECTORY).resolve(key)),
          task + ": the task stored exactly these weights (same key)");
    }
    int lmHead = ELEMENT_BYTES.get("int8/lm_head.weight");
    System.out.println("CompressLayers element for lm_head [64, 4096] int8: " + lmHead + " bytes (weights "
        + 64 * 4096 + " bytes of codes)");
  }

  /** A whole sweep: packages equal what Packager writes from directly compressed weights; the store is gone after. */
  @Test
  void packagesAreWhatThePackagerWritesFromTheWeights() throws Exception {
    Path model = model();
    Path spec = spec(model);
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    Path out = new SweepRunner(new PrintStream(console, true, StandardCharsets.UTF_8))
        .run(spec, Launch.embedded().withRunner("direct").withOut(work.resolve("out"))).out();
    PlannedSweep sweep = plan();
    OnnxModel onnx = OnnxModel.read(model);
    Map<String, List<LayerWeights>> byConfig = new LinkedHashMap<>();
    for (LayerTask task : sweep.tasks()) {
      CompressedWeights weights = Methods.ALL.compress(task.config(), WeightReader.read(onnx, task.layer()), null,
          "test").weights();
      byConfig.computeIfAbsent(task.configId(), k -> new ArrayList<>())
          .add(new LayerWeights(task.layer(), weights, 0));
    }
    assertEquals(List.of("int8", "int4-block32"), List.copyOf(byConfig.keySet()));
    for (Map.Entry<String, List<LayerWeights>> config : byConfig.entrySet()) {
      List<LayerWeights> layers = new ArrayList<>(config.getValue());
      layers.sort(Comparator.comparing(l -> l.layer().name()));
      Path reference = work.resolve("reference").resolve(config.getKey());
      Packager.write(onnx, layers, new Provenance("v", "s", config.getKey(), model.toString(), "sha", 1, "e", null,
          Map.of(), List.of()), reference, null, Packager.DEFAULT_EXTERNAL_DATA_BYTES);
      Path packaged = out.resolve("packages").resolve(sweep.plan().sweepId()).resolve(config.getKey());
      for (String file : List.of(Packager.MODEL_FILE, Packager.DATA_FILE)) {
        assertArrayEquals(Files.readAllBytes(reference.resolve(file)), Files.readAllBytes(packaged.resolve(file)),
            config.getKey() + ": " + file + " is byte-identical");
      }
    }
    Path staging = out.resolve(".staging");
    try (Stream<Path> left = Files.exists(staging) ? Files.list(staging) : Stream.empty()) {
      assertEquals(List.of(), left.toList(), "the staging area and its layer store are removed after publishing");
    }
  }

  static final class SizeFn extends DoFn<KV<String, CompressedLayer>, Void> {
    @ProcessElement
    public void process(@Element KV<String, CompressedLayer> element) throws Exception {
      CompressedLayer layer = element.getValue();
      assertNull(layer.weights(), "no weights in the element");
      assertFalse(layer.failed(), String.valueOf(layer.error()));
      byte[] encoded = CoderUtils.encodeToByteArray(
          KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(CompressedLayer.class)), element);
      ELEMENT_BYTES.put(element.getKey() + "/" + layer.layer().name(), encoded.length);
    }
  }

  private Path model() {
    Path dir = work.resolve("model");
    if (!Files.exists(dir.resolve("model.onnx"))) {
      try {
        Files.createDirectories(dir);
        LlmGenerator.writeModel(SHAPE, 7, dir);
        Path eval = Files.createDirectories(dir.resolve("eval"));
        LlmGenerator.writeTokens(eval, 3, 8, SHAPE.vocab(), 11);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return dir.resolve("model.onnx");
  }

  private Path spec(Path model) throws Exception {
    Path spec = work.resolve("sweep.yaml");
    if (!Files.exists(spec)) {
      Files.writeString(spec, "name: store\nmodel: " + model + "\ntask: embedding\neval_data: "
          + model.resolveSibling("eval") + "\nbatch_size: 2\n" + CONFIGS);
    }
    return spec;
  }

  private PlannedSweep plan() throws Exception {
    return SweepPlanner.plan(spec(model()), work.resolve("planned"));
  }
}
