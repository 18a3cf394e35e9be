package dev.bitsweep.scale;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.lm.LlmGenerator;
import dev.bitsweep.lm.LlmShape;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.encode.CanonicalLayout;
import dev.bitsweep.onnx.encode.OrtDecode;
import dev.bitsweep.onnx.proto.Onnx;
import dev.bitsweep.pipeline.PlannedSweep;
import dev.bitsweep.pipeline.SweepPlanner;
import dev.bitsweep.pipeline.SweepRunner;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The size proof of issue 13, run by failsafe in a JVM of its own with {@code -Xmx512m} (see pipeline/pom.xml): an
 * LLM-shaped model of 50.9 M parameters (204 MB of fp32 in an external data file) sweeps on embedded Flink with
 * int8 per channel and int4 in blocks of 32. Every config is ok; each package is model.onnx plus model.onnx.data
 * at 4 KiB-aligned offsets, loads and runs in ONNX Runtime by path, and decodes its weights bit for bit to what the
 * compression produced. The run prints its wall times and each heap pool's peak.
 *
 * <p>Alone: {@code mvn -B verify -pl pipeline -am -DskipJobJar -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false
 * -Dit.test=LargeModelSweepIT -Dfailsafe.failIfNoSpecifiedTests=false}.
 */
class LargeModelSweepIT {
  /** dim 512, 13 blocks, vocab 16384: LlmShape.forParams(50M, 16384). */
  private static final LlmShape SHAPE = LlmShape.forParams(50_000_000L, 16384);
  private static final int SEQUENCE = 32;
  private static final String CONFIGS = String.join("\n",
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

  @TempDir Path work;

  @Test
  void a50MParameterModelSweepsIn512MBOfHeap() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("bitsweep.sizeProof"),
        "the size proof runs in failsafe's size-proof execution, whose JVM has -Xmx512m");
    assertTrue(Runtime.getRuntime().maxMemory() <= 512L << 20,
        "this test proves a bound: run it with -Xmx512m (failsafe's size-proof execution), not with "
            + (Runtime.getRuntime().maxMemory() >> 20) + " MB");
    assertEquals(new LlmShape(512, 13, 16384), SHAPE);
    long start = System.nanoTime();
    Path modelDir = Files.createDirectories(work.resolve("model"));
    LlmGenerator.Written written = LlmGenerator.writeModel(SHAPE, 13, modelDir);
    Path eval = Files.createDirectories(modelDir.resolve("eval"));
    LlmGenerator.writeTokens(eval, 4, SEQUENCE, SHAPE.vocab(), 17);
    Path spec = work.resolve("sweep.yaml");
    Files.writeString(spec, "name: size-proof\nmodel: model/model.onnx\ntask: embedding\neval_data: model/eval\n"
        + "batch_size: 2\n" + CONFIGS);
    double generateSeconds = (System.nanoTime() - start) / 1e9;

    ByteArrayOutputStream console = new ByteArrayOutputStream();
    long sweepStart = System.nanoTime();
    Path out = new SweepRunner(new PrintStream(console, true, StandardCharsets.UTF_8))
        .run(spec, Launch.embedded().withOut(work.resolve("out"))).out();
    double sweepSeconds = (System.nanoTime() - sweepStart) / 1e9;
    System.out.print(console.toString(StandardCharsets.UTF_8));

    long originalBytes = Files.size(written.modelFile()) + Files.size(written.dataFile());
    List<Map<String, Object>> runs = query("SELECT * FROM " + table(out, "runs") + " ORDER BY config_id");
    assertEquals(List.of("int4-block32", "int8"), runs.stream().map(r -> r.get("config_id")).toList());
    PlannedSweep plan = SweepPlanner.plan(spec, work.resolve("replanned"));
    OnnxModel model = OnnxModel.read(written.modelFile());
    for (Map<String, Object> run : runs) {
      String configId = (String) run.get("config_id");
      assertEquals("ok", run.get("status"), run.toString());
      assertEquals(originalBytes, ((Number) run.get("original_bytes")).longValue());
      Path pkg = out.resolve("packages").resolve(plan.plan().sweepId()).resolve(configId);
      Path packageModel = pkg.resolve("model.onnx");
      Path packageData = pkg.resolve("model.onnx.data");
      assertEquals(Files.size(packageModel) + Files.size(packageData),
          ((Number) run.get("compressed_bytes")).longValue(), configId);
      assertTrue(Files.size(packageModel) < (1 << 20), configId + ": the weights are in the data file");
      JsonNode manifest = new ObjectMapper().readTree(pkg.resolve("manifest.json").toFile());
      assertEquals("model.onnx.data", manifest.get("external_data").get("file").asText());
      Onnx.ModelProto onDisk = Onnx.ModelProto.parseFrom(Files.readAllBytes(packageModel));
      for (Onnx.TensorProto tensor : onDisk.getGraph().getInitializerList()) {
        if (tensor.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL) {
          String offset = tensor.getExternalDataList().stream().filter(e -> e.getKey().equals("offset")).findFirst()
              .orElseThrow().getValue();
          assertEquals(0, Long.parseLong(offset) % 4096, tensor.getName() + " is 4 KiB aligned");
        }
      }

      for (String name : List.of("embed.weight", "blocks.0.attn_q.weight", "blocks.12.mlp_down.weight",
          "lm_head.weight")) {
        Layer layer = plan.tasks().stream().filter(t -> t.configId().equals(configId))
            .filter(t -> t.layer().name().equals(name)).findFirst().orElseThrow().layer();
        CompressedWeights weights = Methods.ALL.compress(plan.tasks().stream()
            .filter(t -> t.configId().equals(configId)).findFirst().orElseThrow().config(),
            WeightReader.read(model, layer), null, "layer " + name).weights();
        float[] expected = new CanonicalLayout(layer.shape(), layer.outputAxis())
            .fromCanonical(weights.decompress().values());
        assertArrayEquals(expected, OrtDecode.decodeWeight(packageModel, layer.tensorName()),
            configId + ": " + name + " decodes bit for bit");
      }

      long[] ids = LlmGenerator.tokens(1, SEQUENCE, SHAPE.vocab(), 17);
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      try (OrtSession.SessionOptions options = OrtDecode.sessionOptions();
          OrtSession session = env.createSession(packageModel.toString(), options);
          OnnxTensor input = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, SEQUENCE});
          OrtSession.Result result = session.run(Map.of(LlmGenerator.INPUT, input))) {
        float[] logits = OrtDecode.toFloats((OnnxTensor) result.get(LlmGenerator.OUTPUT).orElseThrow());
        assertEquals(SEQUENCE * SHAPE.vocab(), logits.length);
        for (float v : logits) {
          assertTrue(Float.isFinite(v), configId + ": the package runs in ONNX Runtime");
        }
      }
    }
    // Each pool's own peak (they peak at different times, so their sum overstates the heap in use).
    StringBuilder pools = new StringBuilder();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pools.append(String.format(" %s %d MB;", pool.getName(), pool.getPeakUsage().getUsed() >> 20));
      }
    }
    System.out.printf("size proof: %d parameters, %d bytes of model; generate %.1f s, sweep %.1f s; heap limit %d MB,"
        + " pool peaks:%s%n", SHAPE.params(), originalBytes, generateSeconds, sweepSeconds,
        Runtime.getRuntime().maxMemory() >> 20, pools);
  }
}
