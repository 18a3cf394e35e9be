package dev.bitsweep.compress;

import dev.bitsweep.calibrate.Gptq;
import dev.bitsweep.calibrate.GptqConfig;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.calibrate.RoundToNearest;
import dev.bitsweep.calibrate.SensitivityWeights;
import dev.bitsweep.calibrate.SparseGpt;
import dev.bitsweep.calibrate.SparseGptConfig;

/** Compresses one layer with any post-training config. */
public final class Compressors {
  private Compressors() {}

  public static CompressedWeights compress(CompressionConfig config, WeightMatrix weights) {
    return compress(config, weights, (float[]) null);
  }

  /**
   * @param importance one non-negative importance per weight (canonical layout) for weighted palettization, or
   *     null; linear quantization ignores it
   */
  public static CompressedWeights compress(CompressionConfig config, WeightMatrix weights, float[] importance) {
    if (config instanceof PalettizeConfig palettize) {
      return Palettizer.palettize(palettize, weights, importance);
    }
    if (config instanceof LinearQuantizeConfig quantize) {
      return LinearQuantizer.quantize(quantize, weights);
    }
    if (config instanceof PruneConfig prune) {
      return Pruner.prune(prune, weights, importance);
    }
    if (config instanceof RoundToNearestConfig rtn) {
      return RoundToNearest.quantize(weights, rtn.nbits(), rtn.groupSize(), rtn.symmetric());
    }
    throw new IllegalArgumentException("no post-training compressor for method " + config.method()
        + (config.needsCalibration() ? " without calibration statistics" : ""));
  }

  /**
   * Compresses with the layer's calibration statistics: GPTQ and SparseGPT use its input Hessian, Hessian-sensitive
   * k-means weighs each weight by the Hessian diagonal; other methods ignore the statistics.
   *
   * @param statistics the layer's statistics, or null when the sweep has no calibration data
   * @param layer named in error messages
   */
  public static CompressedWeights compress(CompressionConfig config, WeightMatrix weights, LayerStatistics statistics,
      String layer) {
    if (!config.needsCalibration()) {
      return compress(config, weights);
    }
    if (statistics == null) {
      throw new IllegalArgumentException(layer + ": method " + config.method() + " needs calibration statistics of "
          + "the layer's inputs; name calibration_data in the sweep spec");
    }
    double[] hessian = statistics.hessian();
    if (config instanceof GptqConfig gptq) {
      return new Gptq(gptq).quantize(layer, weights, hessian).weights();
    }
    if (config instanceof SparseGptConfig sparseGpt) {
      return new SparseGpt(sparseGpt).prune(layer, weights, hessian).weights();
    }
    if (config instanceof PalettizeConfig palettize) {
      return Palettizer.palettize(palettize, weights,
          SensitivityWeights.fromHessianDiagonal(hessian, weights.rows(), weights.cols()));
    }
    throw new IllegalArgumentException("no calibrated compressor for method " + config.method());
  }
}
