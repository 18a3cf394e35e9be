package dev.bitsweep.pipeline;

import static dev.bitsweep.GeneratedModels.FLOAT;
import static dev.bitsweep.GeneratedModels.node;
import static dev.bitsweep.GeneratedModels.valueInfo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.GeneratedModels;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.cluster.BeamJob;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 section 7: a Conv with 320 input channels and a 3x3 kernel has an im2col dimension of 2880, a 66 MB
 * float64 Hessian. At batch_size 16 (15 batches) the statistics job runs on embedded Flink, where a partial sum
 * shuffled as one record used to exceed the sort buffer; the Hessian equals the DirectRunner's bit for bit and an
 * independent XᵀX over the patches.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WideConvStatisticsTest {
  private static final int CHANNELS = 320;
  private static final int SIDE = 4;
  private static final int SAMPLES = 240;
  private static final int DIM = CHANNELS * 9;
  private static final String LAYER = "conv.weight";

  @TempDir static Path work;
  private float[] x;
  private LayerStatistics onFlink;
  private LayerStatistics onDirect;
  private Path flinkStaging;

  @BeforeAll
  void collectOnBothRunners() throws Exception {
    Random random = new Random(2880);
    Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("wide_conv")
        .addInput(valueInfo("x", FLOAT, -1, CHANNELS, SIDE, SIDE))
        .addOutput(valueInfo("y", FLOAT, -1, 8, SIDE - 2, SIDE - 2))
        .addInitializer(GeneratedModels.randomTensor(LAYER, random, 0.02, 8, CHANNELS, 3, 3))
        .addNode(node("Conv", "conv", new String[] {"x", LAYER}, "y")
            .addAttribute(GeneratedModels.ints("kernel_shape", 3, 3)))
        .build();
    Path model = GeneratedModels.write(work.resolve("wide_conv.onnx"), graph);
    x = new float[SAMPLES * CHANNELS * SIDE * SIDE];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextGaussian() + 0.3);
    }
    GeneratedModels.writeNpy(work.resolve("data/x.npy"), x, SAMPLES, CHANNELS, SIDE, SIDE);
    Path spec = work.resolve("sweep.yaml");
    Files.writeString(spec, String.join("\n",
        "name: wide-conv",
        "model: " + model,
        "task: embedding",
        "eval_data: data",
        "calibration_data: data",
        "batch_size: 16",
        "configs:",
        "  - id: rtn4",
        "    method: rtn",
        "    nbits: 4",
        ""));
    PlannedSweep flink = SweepPlanner.plan(spec, work.resolve("flink"));
    flinkStaging = flink.staging();
    onFlink = collect(flink, Launch.embedded());
    onDirect = collect(SweepPlanner.plan(spec, work.resolve("direct")), Launch.embedded().withRunner("direct"));
  }

  private static LayerStatistics collect(PlannedSweep sweep, Launch launch) throws Exception {
    CalibrationPlan calibration = sweep.calibration().orElseThrow();
    assertEquals(15, calibration.batchCount());
    Files.createDirectories(sweep.staging());
    new BeamJob(launch, "wide-conv-statistics", System.out).run(p -> SweepPipeline.buildStatistics(p, sweep));
    return StatisticsCache.read(Path.of(calibration.cacheDir()), LAYER);
  }

  @Test
  void flinkAndTheDirectRunnerAgreeBitForBit() {
    assertEquals(DIM, onFlink.dim());
    assertEquals((long) SAMPLES * 4, onFlink.rows(), "4 output positions per image");
    assertArrayEquals(onDirect.hessian(), onFlink.hessian());
    assertEquals(onDirect.min(), onFlink.min());
    assertEquals(onDirect.max(), onFlink.max());
  }

  @Test
  void theHessianIsXTransposeXOverThePatches() {
    double[] h = new double[DIM * DIM];
    double[] patch = new double[DIM];
    for (int n = 0; n < SAMPLES; n++) {
      for (int oh = 0; oh < SIDE - 2; oh++) {
        for (int ow = 0; ow < SIDE - 2; ow++) {
          for (int c = 0; c < CHANNELS; c++) {
            for (int kh = 0; kh < 3; kh++) {
              for (int kw = 0; kw < 3; kw++) {
                patch[c * 9 + kh * 3 + kw] = x[((n * CHANNELS + c) * SIDE + oh + kh) * SIDE + ow + kw];
              }
            }
          }
          for (int i = 0; i < DIM; i++) {
            double pi = patch[i];
            int row = i * DIM;
            for (int j = i; j < DIM; j++) {
              h[row + j] += pi * patch[j];
            }
          }
        }
      }
    }
    double[] actual = onFlink.hessian();
    double worst = 0;
    for (int i = 0; i < DIM; i++) {
      for (int j = i; j < DIM; j++) {
        double expected = h[i * DIM + j];
        worst = Math.max(worst, Math.abs(actual[i * DIM + j] - expected) / Math.max(Math.abs(expected), 1e-300));
        assertEquals(actual[i * DIM + j], actual[j * DIM + i], "symmetric at " + i + "," + j);
      }
    }
    assertTrue(worst <= 1e-9, "largest relative difference " + worst);
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (float v : x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertEquals(min, onFlink.min());
    assertEquals(max, onFlink.max());
  }

  @Test
  void thePartialSumsAreGoneFromTheStagingDirectory() throws Exception {
    Path partials = flinkStaging.resolve("statistics-partials");
    assertTrue(Files.isDirectory(partials), "the partials went through " + partials);
    try (Stream<Path> files = Files.walk(partials)) {
      assertFalse(files.anyMatch(Files::isRegularFile), "every partial is deleted once summed");
    }
  }
}
