package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.ResultTables;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep of the float16 fixture (two fp16 MatMul weights): int8 per channel (a DequantizeLinear decode cast back to
 * float16) and threshold pruning that finds nothing to prune (the layers stay dense, stored as float16).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Fp16SweepTest {
  private static final Path MODEL = Fixtures.structuralModel("fp16_weights_opset17.onnx");
  private static final int SAMPLES = 12;

  @TempDir static Path work;
  private SweepOutcome outcome;

  @BeforeAll
  void runTheSweep() throws Exception {
    Path eval = Files.createDirectories(work.resolve("eval"));
    float[] x = new float[SAMPLES * 64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.cos(0.11 * i);
    }
    ResultTables.writeNpy(eval.resolve("x.npy"), x, SAMPLES, 64);
    Path spec = work.resolve("sweep.yaml");
    Files.writeString(spec, String.join("\n",
        "name: fp16",
        "model: " + MODEL,
        "task: agreement",
        "eval_data: eval",
        "batch_size: 5",
        "configs:",
        "  - id: int8",
        "    method: linear_quantize",
        "    mode: linear_symmetric",
        "    dtype: int8",
        "    granularity: per_channel",
        "  - id: threshold",
        "    method: prune",
        "    mode: threshold",
        ""));
    outcome = new SweepRunner(System.out).run(spec, Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
  }

  @Test
  void everyConfigAndLayerIsOk() throws Exception {
    ResultTables.Sweep sweep = ResultTables.assertAllOk(outcome.out(), List.of("int8", "threshold"), 2);
    for (Map<String, Object> run : sweep.runs()) {
      assertEquals(SAMPLES, ((Number) run.get("eval_samples")).intValue(), run.toString());
    }
    assertEquals(1.0, (Double) sweep.runs().get(1).get("agreement"), 0.0, "the dense package is the original model");
    for (Map<String, Object> layer : sweep.layers()) {
      boolean dense = layer.get("config_id").equals("threshold");
      assertEquals(dense, ((String) layer.get("encoding")).startsWith("dense"), layer.toString());
    }
  }

  @Test
  void theInt8PackageCastsEachWeightOnce() throws Exception {
    Onnx.GraphProto original = OnnxModel.read(MODEL).proto().getGraph();
    Onnx.GraphProto packaged = OnnxModel.read(outcome.out().resolve("packages").resolve(outcome.sweepId()).resolve("int8/model.onnx")).proto().getGraph();
    assertEquals(casts(original) + 2, casts(packaged), "one Cast to float16 per compressed weight");
    Onnx.GraphProto dense = OnnxModel.read(outcome.out().resolve("packages").resolve(outcome.sweepId()).resolve("threshold/model.onnx")).proto().getGraph();
    assertEquals(casts(original), casts(dense), "dense float16 weights need no Cast");
  }

  private static long casts(Onnx.GraphProto graph) {
    return graph.getNodeList().stream().filter(n -> n.getOpType().equals("Cast")).count();
  }
}
