package dev.bitsweep.pipeline;

import static dev.bitsweep.GeneratedModels.FLOAT;
import static dev.bitsweep.GeneratedModels.INT64;
import static dev.bitsweep.GeneratedModels.node;
import static dev.bitsweep.GeneratedModels.valueInfo;
import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.GeneratedModels;
import dev.bitsweep.layer.SkippedTensor;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.onnx.proto.Onnx;
import dev.bitsweep.spec.SpecException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 section 4 on generated models with odd channel counts: every layer a config cannot fit is named in one
 * message; {@code fallback} makes each fit (or skips it), reported per layer in layers/ and run by ONNX Runtime in the
 * package evaluation; a calibrated method leaves a Gather embedding uncompressed instead of failing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FallbackSweepTest {
  private static final int SAMPLES = 8;
  @TempDir static Path work;
  private Path convModel;
  private Path embeddingModel;

  /**
   * x [N,16,8,8] -> Conv 13 (3x3) -> Conv 13 (3x3) -> Conv 16 (1x1) -> depthwise Conv 16 (5x5, group 16) -> mean over
   * H, W -> MatMul [16, 13] -> y. Weight matrices: conv.a 13x144, conv.b 13x117, conv.c 16x13, dw 16x25, fc 13x16.
   */
  @BeforeAll
  void generateModels() throws Exception {
    Random random = new Random(13);
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("odd_channels")
        .addInput(valueInfo("x", FLOAT, -1, 16, 8, 8)).addOutput(valueInfo("y", FLOAT, -1, 13));
    g.addInitializer(GeneratedModels.randomTensor("conv.a", random, 0.1, 13, 16, 3, 3));
    g.addInitializer(GeneratedModels.randomTensor("conv.b", random, 0.1, 13, 13, 3, 3));
    g.addInitializer(GeneratedModels.randomTensor("conv.c", random, 0.3, 16, 13, 1, 1));
    g.addInitializer(GeneratedModels.randomTensor("dw", random, 0.2, 16, 1, 5, 5));
    g.addInitializer(GeneratedModels.randomTensor("fc", random, 0.3, 16, 13));
    g.addInitializer(GeneratedModels.tensor("axes", new long[] {0}, new float[0]).toBuilder().clearRawData()
        .setDataType(INT64).clearDims().addDims(2).addInt64Data(2).addInt64Data(3).build());
    g.addNode(node("Conv", "a", new String[] {"x", "conv.a"}, "a").addAttribute(GeneratedModels.ints("pads", 1, 1, 1, 1)));
    g.addNode(node("Conv", "b", new String[] {"a", "conv.b"}, "b").addAttribute(GeneratedModels.ints("pads", 1, 1, 1, 1)));
    g.addNode(node("Conv", "c", new String[] {"b", "conv.c"}, "c"));
    g.addNode(node("Conv", "d", new String[] {"c", "dw"}, "d").addAttribute(GeneratedModels.ints("pads", 2, 2, 2, 2))
        .addAttribute(GeneratedModels.intAttr("group", 16)));
    g.addNode(node("ReduceMean", "mean", new String[] {"d"}, "m").addAttribute(GeneratedModels.ints("axes", 2, 3))
        .addAttribute(GeneratedModels.intAttr("keepdims", 0)));
    g.addNode(node("MatMul", "fc", new String[] {"m", "fc"}, "y"));
    g.removeInitializer(5);
    convModel = GeneratedModels.write(work.resolve("odd_channels.onnx"), g.build());
    float[] x = new float[SAMPLES * 16 * 64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    GeneratedModels.writeNpy(work.resolve("conv-data/x.npy"), x, SAMPLES, 16, 8, 8);

    Onnx.GraphProto.Builder e = Onnx.GraphProto.newBuilder().setName("embedding")
        .addInput(valueInfo("ids", INT64, -1, 4)).addOutput(valueInfo("y", FLOAT, -1, 4, 8));
    e.addInitializer(GeneratedModels.randomTensor("embedding", random, 1.0, 50, 16));
    e.addInitializer(GeneratedModels.randomTensor("proj", random, 0.3, 16, 8));
    e.addNode(node("Gather", "gather", new String[] {"embedding", "ids"}, "h"));
    e.addNode(node("MatMul", "proj", new String[] {"h", "proj"}, "y"));
    embeddingModel = GeneratedModels.write(work.resolve("embedding.onnx"), e.build());
    long[] ids = new long[SAMPLES * 4];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(50);
    }
    GeneratedModels.writeNpy(work.resolve("ids-data/ids.npy"), ids, SAMPLES, 4);
  }

  private Path spec(String name, Path model, String data, String... configLines) throws Exception {
    List<String> lines = new ArrayList<>(List.of("name: " + name, "model: " + model, "task: embedding",
        "eval_data: " + work.resolve(data), "calibration_data: " + work.resolve(data), "batch_size: 4",
        "weight_threshold: 0", "configs:"));
    lines.addAll(List.of(configLines));
    Path spec = work.resolve(name + ".yaml");
    Files.writeString(spec, String.join("\n", lines) + "\n");
    return spec;
  }

  @Test
  void everyLayerAConfigCannotFitIsNamedInOneMessage() throws Exception {
    Path spec = spec("misfit", convModel, "conv-data",
        "  - {id: g16, method: palettize, mode: kmeans, nbits: 2, granularity: per_grouped_channel, group_size: 16}",
        "  - {id: b32, method: linear_quantize, dtype: int4, granularity: per_block, block_size: 32}");
    SpecException e = assertThrows(SpecException.class, () -> SweepPlanner.plan(spec, work.resolve("misfit-out")));
    assertEquals(spec + ": 6 (config, layer) pairs do not fit:\n"
        + "  config 'g16' cannot compress layer conv.a [13,16,3,3] (13 output channels x 144): group_size: 16 does"
        + " not divide the 13 output channels of this layer; choose a divisor of 13 or per_tensor\n"
        + "  config 'g16' cannot compress layer conv.b [13,13,3,3] (13 output channels x 117): group_size: 16 does"
        + " not divide the 13 output channels of this layer; choose a divisor of 13 or per_tensor\n"
        + "  config 'g16' cannot compress layer fc [16,13] (13 output channels x 16): group_size: 16 does not divide"
        + " the 13 output channels of this layer; choose a divisor of 13 or per_tensor\n"
        + "  config 'b32' cannot compress layer conv.c [16,13,1,1] (16 output channels x 13): block_size: 32 is"
        + " larger than the 13 weights per output channel of this layer; use at most 13 or per_channel\n"
        + "  config 'b32' cannot compress layer dw [16,1,5,5] (16 output channels x 25): block_size: 32 is larger"
        + " than the 25 weights per output channel of this layer; use at most 25 or per_channel\n"
        + "  config 'b32' cannot compress layer fc [16,13] (13 output channels x 16): block_size: 32 is larger than"
        + " the 16 weights per output channel of this layer; use at most 16 or per_channel\n"
        + "change the values, exclude layers with 'layers: {<name>: null}' rules, or give the config a 'fallback:'"
        + " (skip, per_tensor, per_channel or nearest)", e.getMessage());
  }

  @Test
  void eachFallbackIsAppliedReportedAndRunByOnnxRuntime() throws Exception {
    Path spec = spec("fallbacks", convModel, "conv-data",
        "  - {id: g16-nearest, fallback: nearest, method: palettize, mode: kmeans, nbits: 2,"
            + " granularity: per_grouped_channel, group_size: 16}",
        "  - {id: g16-tensor, fallback: per_tensor, method: palettize, mode: kmeans, nbits: 2,"
            + " granularity: per_grouped_channel, group_size: 16}",
        "  - {id: g16-skip, fallback: skip, method: palettize, mode: kmeans, nbits: 2,"
            + " granularity: per_grouped_channel, group_size: 16}",
        "  - {id: b32-nearest, fallback: nearest, method: linear_quantize, dtype: int4, granularity: per_block,"
            + " block_size: 32}",
        "  - {id: b32-channel, fallback: per_channel, method: linear_quantize, dtype: int4, granularity: per_block,"
            + " block_size: 32}");
    SweepOutcome outcome = new SweepRunner(System.out).run(spec,
        Launch.embedded().withRunner("direct").withOut(work.resolve("fallbacks-out")));
    for (Map<String, Object> run : query("SELECT config_id, status, layers_compressed FROM "
        + table(outcome.out(), "runs") + " ORDER BY config_id")) {
      assertEquals("ok", run.get("status"), "ONNX Runtime ran the package of " + run);
    }
    List<String> rows = new ArrayList<>();
    for (Map<String, Object> row : query("SELECT config_id, layer, encoding, fallback, status FROM "
        + table(outcome.out(), "layers") + " ORDER BY config_id, layer")) {
      rows.add(row.get("config_id") + " " + row.get("layer") + " " + row.get("encoding") + " " + row.get("fallback")
          + " " + row.get("status"));
    }
    // per_channel turns the per-block dequantization into one DequantizeLinear along the channel axis (dq-axis);
    // g16-skip leaves conv.a, conv.b and fc uncompressed; a config that fits as written reports null
    JsonNode nearest = new ObjectMapper().readTree(outcome.out().resolve("packages").resolve(outcome.sweepId()).resolve("g16-nearest/manifest.json").toFile());
    List<String> manifestFallbacks = new ArrayList<>();
    nearest.get("layers").forEach(l -> manifestFallbacks.add(l.get("layer").asText() + " " + l.get("fallback").asText()));
    assertEquals(List.of("conv.a nearest: group_size 16 -> 13", "conv.b nearest: group_size 16 -> 13",
        "conv.c null", "dw null", "fc nearest: group_size 16 -> 13"), manifestFallbacks.stream().sorted().toList());
    JsonNode skip = new ObjectMapper().readTree(outcome.out().resolve("packages").resolve(outcome.sweepId()).resolve("g16-skip/manifest.json").toFile());
    List<String> skippedInManifest = new ArrayList<>();
    skip.get("skipped").forEach(t -> skippedInManifest.add(t.get("tensor").asText()));
    assertEquals(List.of("conv.a", "conv.b", "fc"), skippedInManifest);
    assertEquals(List.of(
        "b32-channel conv.a quantize/unpack-arith+dequant-arith+layout null ok",
        "b32-channel conv.b quantize/unpack-arith+dequant-arith+layout null ok",
        "b32-channel conv.c quantize/unpack-arith+dq-axis+layout per_channel: granularity per_block -> per_channel ok",
        "b32-channel dw quantize/unpack-arith+dq-axis+layout per_channel: granularity per_block -> per_channel ok",
        "b32-channel fc quantize/unpack-arith+dq-axis+layout per_channel: granularity per_block -> per_channel ok",
        "b32-nearest conv.a quantize/unpack-arith+dequant-arith+layout null ok",
        "b32-nearest conv.b quantize/unpack-arith+dequant-arith+layout null ok",
        "b32-nearest conv.c quantize/unpack-arith+dequant-arith+layout nearest: block_size 32 -> 13 ok",
        "b32-nearest dw quantize/unpack-arith+dequant-arith+layout nearest: block_size 32 -> 25 ok",
        "b32-nearest fc quantize/unpack-arith+dequant-arith+layout nearest: block_size 32 -> 16 ok",
        "g16-nearest conv.a palettize/lut-fp16+unpack-arith+layout nearest: group_size 16 -> 13 ok",
        "g16-nearest conv.b palettize/lut-fp16+unpack-arith+layout nearest: group_size 16 -> 13 ok",
        "g16-nearest conv.c palettize/lut-fp16+unpack-arith+layout null ok",
        "g16-nearest dw palettize/lut-fp16+unpack-arith+layout null ok",
        "g16-nearest fc palettize/lut-fp16+unpack-arith+layout nearest: group_size 16 -> 13 ok",
        "g16-skip conv.c palettize/lut-fp16+unpack-arith+layout null ok",
        "g16-skip dw palettize/lut-fp16+unpack-arith+layout null ok",
        "g16-tensor conv.a palettize/lut-fp16+unpack-arith+layout per_tensor: granularity per_grouped_channel -> per_tensor ok",
        "g16-tensor conv.b palettize/lut-fp16+unpack-arith+layout per_tensor: granularity per_grouped_channel -> per_tensor ok",
        "g16-tensor conv.c palettize/lut-fp16+unpack-arith+layout null ok",
        "g16-tensor dw palettize/lut-fp16+unpack-arith+layout null ok",
        "g16-tensor fc palettize/lut-fp16+unpack-arith+layout per_tensor: granularity per_grouped_channel -> per_tensor ok"), rows);
  }

  @Test
  void aCalibratedMethodLeavesTheEmbeddingUncompressed() throws Exception {
    Path spec = spec("gptq", embeddingModel, "ids-data", "  - {id: gptq4, method: gptq, nbits: 4}");
    PlannedSweep sweep = SweepPlanner.plan(spec, work.resolve("gptq-out"));
    assertEquals(List.of("proj"), sweep.tasks().stream().map(t -> t.layer().name()).toList());
    List<SkippedTensor> skipped = sweep.plan().skippedBy("gptq4");
    assertEquals(1, skipped.size());
    assertEquals("embedding", skipped.get(0).name());
    assertEquals("Gather", skipped.get(0).opType());
    assertTrue(skipped.get(0).reason().startsWith("gptq needs an input Hessian, and "), skipped.get(0).reason());
  }
}
