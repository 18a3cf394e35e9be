package dev.bitsweep.pipeline;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.PalettizeConfig;

/**
 * A rough estimate of how long a layer task takes, in seconds of one core of this kind of machine, used only to
 * start the heavy tasks first (longest processing time first keeps the last worker from finishing long after the
 * others). The terms follow the algorithms' complexity, the factors were fitted to `bitsweep bench` timings on
 * Gaussian 1024x1024 to 4096x4096 weights; within 3x of the measured time is enough for ordering.
 */
final class TaskCost {
  private static final double SECONDS_PER_WEIGHT = 1e-7;
  /** Optimal k-means per channel group: a DP over about k bins with k layers, per group. */
  private static final double SECONDS_PER_GROUP_K_SQUARED = 6e-7;
  /** Lloyd iterations of vector k-means: every weight against every centroid. */
  private static final double SECONDS_PER_WEIGHT_CENTROID = 1e-7;
  /** GPTQ / SparseGPT: the column sweep updates rows x cols^2. */
  private static final double SECONDS_PER_WEIGHT_COLUMN = 5e-11;

  private TaskCost() {}

  static double seconds(LayerTask task) {
    double weights = task.layer().params();
    double base = weights * SECONDS_PER_WEIGHT;
    CompressionConfig config = task.config();
    if (config.needsCalibration() && !(config instanceof PalettizeConfig)) {
      return base + weights * task.layer().cols() * SECONDS_PER_WEIGHT_COLUMN;
    }
    if (config instanceof PalettizeConfig palettize && palettize.mode() == PalettizeConfig.Mode.KMEANS) {
      double k = 1 << palettize.nbits();
      if (palettize.clusterDim() > 1) {
        return base + weights * k * SECONDS_PER_WEIGHT_CENTROID;
      }
      if (palettize.granularity() == PalettizeConfig.Granularity.PER_GROUPED_CHANNEL) {
        int groupSize = palettize.groupSize() == null ? 1 : palettize.groupSize();
        double groups = Math.ceil(task.layer().rows() / (double) groupSize);
        return base + groups * k * k * SECONDS_PER_GROUP_K_SQUARED;
      }
    }
    return base;
  }
}
