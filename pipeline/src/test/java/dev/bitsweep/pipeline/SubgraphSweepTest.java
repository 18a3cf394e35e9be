package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.ResultTables;
import dev.bitsweep.cluster.Launch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 sections 1 and 2 end to end: GPTQ and round to nearest on a model whose five weights are all used inside
 * If branches and a Loop body (one of them a main-graph weight used only in a branch, one a Conv in the Loop).
 * Every (config, layer) is packaged and calibrated, with an output error from the captured subgraph Hessians.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SubgraphSweepTest {
  private static final Path MODEL = Fixtures.structuralModel("subgraphs/subgraph_calibration_opset13.onnx");
  private static final int SAMPLES = 16;
  private static final List<String> LAYERS =
      List.of("loop.conv.weight", "loop.w", "main.else.weight", "then.a", "then.b");

  @TempDir static Path work;
  private SweepOutcome outcome;

  @BeforeAll
  void runTheSweep() throws Exception {
    Random random = new Random(15);
    for (String dir : List.of("eval", "calibration")) {
      float[] x = new float[SAMPLES * 16];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (random.nextGaussian() + (i / 16 % 2 == 0 ? 0.4 : -0.4));
      }
      ResultTables.writeNpy(Files.createDirectories(work.resolve(dir)).resolve("x.npy"), x, SAMPLES, 16);
    }
    Path spec = work.resolve("sweep.yaml");
    Files.writeString(spec, String.join("\n",
        "name: subgraphs",
        "model: " + MODEL,
        "task: agreement",
        "eval_data: eval",
        "calibration_data: calibration",
        "batch_size: 4",
        "weight_threshold: 0",
        "configs:",
        "  - id: gptq",
        "    method: gptq",
        "    nbits: 3",
        "  - id: rtn",
        "    method: rtn",
        "    nbits: 3",
        ""));
    outcome = new SweepRunner(System.out).run(spec, Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
  }

  @Test
  void everyLayerInsideTheSubgraphsIsCalibratedAndPackaged() throws Exception {
    List<Map<String, Object>> layers =
        ResultTables.assertAllOk(outcome.out(), List.of("gptq", "rtn"), LAYERS.size()).layers();
    for (Map<String, Object> layer : layers) {
      assertNotNull(layer.get("output_error"), layer.toString());
      assertTrue((Double) layer.get("output_error") > 0, layer.toString());
    }
    double gptq = 0;
    double rtn = 0;
    for (int i = 0; i < LAYERS.size(); i++) {
      assertEquals(LAYERS.get(i), layers.get(i).get("layer"));
      gptq += (Double) layers.get(i).get("output_error");
      rtn += (Double) layers.get(LAYERS.size() + i).get("output_error");
    }
    assertTrue(gptq < rtn, "GPTQ on the subgraph Hessians lowers the summed output error: " + gptq + " vs " + rtn);
  }
}
