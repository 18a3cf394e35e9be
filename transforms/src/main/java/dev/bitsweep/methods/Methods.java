package dev.bitsweep.methods;

import static dev.bitsweep.methods.ResultColumn.BLOCK_SIZE;
import static dev.bitsweep.methods.ResultColumn.CLUSTER_DIM;
import static dev.bitsweep.methods.ResultColumn.DTYPE;
import static dev.bitsweep.methods.ResultColumn.ENABLE_PER_CHANNEL_SCALE;
import static dev.bitsweep.methods.ResultColumn.GRANULARITY;
import static dev.bitsweep.methods.ResultColumn.GROUP_SIZE;
import static dev.bitsweep.methods.ResultColumn.LAZY_BATCH_SIZE;
import static dev.bitsweep.methods.ResultColumn.LUT_DTYPE;
import static dev.bitsweep.methods.ResultColumn.MODE;
import static dev.bitsweep.methods.ResultColumn.NBITS;
import static dev.bitsweep.methods.ResultColumn.N_M_RATIO;
import static dev.bitsweep.methods.ResultColumn.PRUNE_BLOCK_SIZE;
import static dev.bitsweep.methods.ResultColumn.TARGET_SPARSITY;

import dev.bitsweep.calibrate.Gptq;
import dev.bitsweep.calibrate.GptqConfig;
import dev.bitsweep.calibrate.RoundToNearest;
import dev.bitsweep.calibrate.RoundToNearestConfig;
import dev.bitsweep.calibrate.SensitivityWeights;
import dev.bitsweep.calibrate.SparseGpt;
import dev.bitsweep.calibrate.SparseGptConfig;
import dev.bitsweep.compress.LinearQuantizeConfig;
import dev.bitsweep.compress.LinearQuantizer;
import dev.bitsweep.compress.ScaleDtype;
import dev.bitsweep.compress.PalettizeConfig;
import dev.bitsweep.compress.Palettizer;
import dev.bitsweep.compress.PruneConfig;
import dev.bitsweep.compress.Pruner;
import dev.bitsweep.compress.WeightMatrix;
import java.util.List;
import java.util.Map;

/**
 * The product's compression methods: one registration each. A new method is its config record (which parses and
 * validates itself), its algorithm, and one line in {@link #ALL}.
 *
 * <p>Cost factors were fitted to {@code bitsweep bench} timings on Gaussian 1024x1024 to 4096x4096 weights; the
 * terms follow each algorithm's complexity.
 */
public final class Methods {
  /** Optimal k-means per channel group: a DP over about k bins with k layers, per group. */
  private static final double SECONDS_PER_GROUP_K_SQUARED = 6e-7;
  /** Lloyd iterations of vector k-means: every weight against every centroid. */
  private static final double SECONDS_PER_WEIGHT_CENTROID = 1e-7;
  /** GPTQ / SparseGPT: the column sweep updates rows x cols^2. */
  private static final double SECONDS_PER_WEIGHT_COLUMN = 5e-11;

  /** Each line: name, config record and its parser, algorithm, cost model, config-id naming, runs-table columns. */
  public static final MethodRegistry ALL = MethodRegistry.empty()
      .with(new Method<>(PalettizeConfig.METHOD, PalettizeConfig.class, PalettizeConfig::fromFields,
          Methods::palettize, Methods::palettizeCost, Methods::palettizeName,
          List.of(MODE, NBITS, GRANULARITY, GROUP_SIZE, CLUSTER_DIM, ENABLE_PER_CHANNEL_SCALE, LUT_DTYPE)))
      .with(new Method<>(LinearQuantizeConfig.METHOD, LinearQuantizeConfig.class, LinearQuantizeConfig::fromFields,
          (c, w, h, layer) -> Compression.of(LinearQuantizer.quantize(c, w)), Methods::perWeightOnly,
          Methods::linearQuantizeName, List.of(MODE, DTYPE, GRANULARITY, BLOCK_SIZE)))
      .with(new Method<>(PruneConfig.METHOD, PruneConfig.class, PruneConfig::fromFields,
          (c, w, h, layer) -> Compression.of(Pruner.prune(c, w)), Methods::perWeightOnly, Methods::pruneName,
          List.of(MODE, TARGET_SPARSITY, PRUNE_BLOCK_SIZE, N_M_RATIO)))
      .with(new Method<>(RoundToNearestConfig.METHOD, RoundToNearestConfig.class, RoundToNearestConfig::fromFields,
          (c, w, h, layer) -> Compression.of(RoundToNearest.quantize(w, c.nbits(), c.groupSize(), c.symmetric(),
              c.scaleDtype())),
          Methods::perWeightOnly, Methods::roundToNearestName, List.of(NBITS, GROUP_SIZE)))
      .with(new Method<>(GptqConfig.METHOD, GptqConfig.class, GptqConfig::fromFields,
          Methods::gptq, Methods::columnSweepCost, Methods::gptqName, List.of(NBITS, GROUP_SIZE, LAZY_BATCH_SIZE)))
      .with(new Method<>(SparseGptConfig.METHOD, SparseGptConfig.class, SparseGptConfig::fromFields,
          Methods::sparseGpt, Methods::columnSweepCost, Methods::sparseGptName,
          List.of(NBITS, TARGET_SPARSITY, N_M_RATIO, LAZY_BATCH_SIZE)));

  private Methods() {}

  /** With {@code sensitivity: hessian} the k-means error of each weight is weighted by the Hessian diagonal. */
  private static Compression palettize(PalettizeConfig config, WeightMatrix w, double[] hessian, String layer) {
    float[] importance = hessian == null ? null : SensitivityWeights.fromHessianDiagonal(hessian, w.rows(), w.cols());
    return Compression.of(Palettizer.palettize(config, w, importance));
  }

  private static Compression gptq(GptqConfig config, WeightMatrix w, double[] hessian, String layer) {
    Gptq.Result result = new Gptq(config).quantize(layer, w, hessian);
    return new Compression(result.weights(), result.percdampUsed());
  }

  private static Compression sparseGpt(SparseGptConfig config, WeightMatrix w, double[] hessian, String layer) {
    SparseGpt.Result result = new SparseGpt(config).prune(layer, w, hessian);
    return new Compression(result.weights(), result.percdampUsed());
  }

  private static double perWeightOnly(Object config, long weights, int rows, int cols) {
    return 0;
  }

  private static double palettizeCost(PalettizeConfig config, long weights, int rows, int cols) {
    if (config.mode() != PalettizeConfig.Mode.KMEANS) {
      return 0;
    }
    double k = 1 << config.nbits();
    if (config.clusterDim() > 1) {
      return weights * k * SECONDS_PER_WEIGHT_CENTROID;
    }
    if (config.granularity() == PalettizeConfig.Granularity.PER_GROUPED_CHANNEL) {
      double groups = Math.ceil(rows / (double) config.groupSize());
      return groups * k * k * SECONDS_PER_GROUP_K_SQUARED;
    }
    return 0;
  }

  private static double columnSweepCost(Object config, long weights, int rows, int cols) {
    return (double) weights * cols * SECONDS_PER_WEIGHT_COLUMN;
  }

  /** The config-id part of {@code scale_dtype: float16}. */
  private static final String FLOAT16_SCALES = "fp16scales";

  private static void palettizeName(PalettizeConfig c, ConfigName id) {
    Map<String, Object> f = c.fields();
    id.add(f.get("mode")).add(c.nbits() + "bit").add(f.get("granularity"))
        .addIf(c.granularity() == PalettizeConfig.Granularity.PER_GROUPED_CHANNEL, "g" + c.groupSize())
        .addIf(c.clusterDim() != 1, "cd" + c.clusterDim())
        .addIf(c.enablePerChannelScale(), "pcs")
        .addIf(c.lutDtype() != PalettizeConfig.LutDtype.FP16, f.get("lut_dtype"))
        .addIf(c.sensitivity() != PalettizeConfig.Sensitivity.NONE, f.get("sensitivity"));
  }

  private static void linearQuantizeName(LinearQuantizeConfig c, ConfigName id) {
    Map<String, Object> f = c.fields();
    id.add(f.get("mode")).add(f.get("dtype")).add(f.get("granularity"))
        .addIf(c.granularity() == LinearQuantizeConfig.Granularity.PER_BLOCK, "b" + c.blockSize())
        .addIf(c.scaleDtype() == ScaleDtype.FLOAT16, FLOAT16_SCALES);
  }

  private static void pruneName(PruneConfig c, ConfigName id) {
    id.add(c.fields().get("mode"))
        .addIf(c.pruneBlockSize() != null, "b" + c.pruneBlockSize())
        .addIf(c.targetSparsity() != null && c.targetSparsity() != 0, sparsityPercent(c.targetSparsity()))
        .addIf(c.nmRatio() != null, c.nmRatio())
        .addIf(c.threshold() != null && c.threshold() != 0, c.threshold());
    if (c.joint() != null) {
      Map<String, Object> joint = c.joint().fields();
      id.append("+" + c.joint().method());
      if (joint.get("nbits") != null) {
        id.append("-" + joint.get("nbits") + "bit");
      }
      if (joint.get("dtype") != null) {
        id.append("-" + joint.get("dtype"));
      }
    }
  }

  private static void roundToNearestName(RoundToNearestConfig c, ConfigName id) {
    id.add(c.nbits() + "bit").addIf(c.groupSize() != 0, "g" + c.groupSize()).addIf(!c.symmetric(), "asym")
        .addIf(c.scaleDtype() == ScaleDtype.FLOAT16, FLOAT16_SCALES);
  }

  private static void gptqName(GptqConfig c, ConfigName id) {
    id.add(c.nbits() + "bit").addIf(c.groupSize() != 0, "g" + c.groupSize()).addIf(c.actOrder(), "actorder")
        .addIf(!c.symmetric(), "asym").addIf(c.percdamp() != GptqConfig.DEFAULT_PERCDAMP, "d" + c.percdamp())
        .addIf(c.scaleDtype() == ScaleDtype.FLOAT16, FLOAT16_SCALES);
  }

  private static void sparseGptName(SparseGptConfig c, ConfigName id) {
    id.addIf(c.quantizes(), c.nbits() + "bit")
        .addIf(c.targetSparsity() != 0, sparsityPercent(c.targetSparsity()))
        .addIf(c.structured(), c.nmRatio())
        .addIf(c.quantizes() && !c.symmetric(), "asym")
        .addIf(c.percdamp() != SparseGptConfig.DEFAULT_PERCDAMP, "d" + c.percdamp())
        .addIf(c.quantizes() && c.scaleDtype() == ScaleDtype.FLOAT16, FLOAT16_SCALES);
  }

  /**
   * {@code s50} for 0.5, {@code s50.4} for 0.504: as many digits as the value has, so distinct sparsities never
   * share an id; null (never appended) for no sparsity.
   */
  private static String sparsityPercent(Double sparsity) {
    return sparsity == null ? null
        : "s" + new java.math.BigDecimal(Double.toString(sparsity)).movePointRight(2).stripTrailingZeros().toPlainString();
  }
}
