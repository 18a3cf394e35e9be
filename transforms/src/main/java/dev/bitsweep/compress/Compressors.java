package dev.bitsweep.compress;

/** Compresses one layer with any post-training config. */
public final class Compressors {
  private Compressors() {}

  public static CompressedWeights compress(CompressionConfig config, WeightMatrix weights) {
    return compress(config, weights, null);
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
    throw new IllegalArgumentException("no post-training compressor for method " + config.method());
  }
}
