package dev.bitsweep.compress;

import java.util.stream.IntStream;

/**
 * Pruning of one layer ({@link PruneConfig}); returns {@link SparseWeights} whose kept form is dense, or palettized /
 * quantized for a joint config (only the surviving weights shape the table or scales; the mask stays exact).
 *
 * <ul>
 *   <li>Unstructured magnitude: exactly {@code round(target_sparsity * size)} weights with the smallest |w| are
 *       zeroed; ties go to the lower index.</li>
 *   <li>Blocks: the {@code round(target_sparsity * blocks)} blocks of {@code block_size} consecutive weights of a
 *       row with the smallest mean square are zeroed (a shorter last block per row is scored the same way).</li>
 *   <li>n:m: in every m consecutive weights of a row the n smallest |w| are zeroed (ties: lower index).</li>
 *   <li>Threshold: every |w| below {@code threshold} is zeroed; if that leaves a sparsity below
 *       {@code minimum_sparsity_percentile}, the layer is not pruned (as coremltools): the result is
 *       {@link DenseWeights} of the unchanged weights, or the joint method applied to them.</li>
 * </ul>
 */
public final class Pruner {
  private static final int CHUNK = 1 << 16;

  private Pruner() {}

  public static CompressedWeights prune(PruneConfig config, WeightMatrix weights) {
    return prune(config, weights, null);
  }

  /** {@code importance} (or null) weights the error of a joint palettization; pruning itself uses magnitudes. */
  public static CompressedWeights prune(PruneConfig config, WeightMatrix weights, float[] importance) {
    WeightChecks.requireFinite(weights);
    WeightChecks.requireImportance(importance, weights);
    config.validateFor(weights.rows(), weights.cols());
    boolean[] pruned;
    if (config.mode() == PruneConfig.Mode.THRESHOLD) {
      pruned = belowThreshold(weights.values(), config.threshold());
      if (fraction(pruned) < config.minimumSparsityPercentile()) {
        return config.joint() == null ? new DenseWeights(copy(weights)) : jointCompress(config, weights, importance, null);
      }
    } else if (config.nmRatio() != null) {
      pruned = nOfM(weights, config.nmRatio().n(), config.nmRatio().m());
    } else if (config.pruneBlockSize() != null) {
      pruned = smallestBlocks(weights, config.pruneBlockSize(), config.targetSparsity());
    } else {
      long count = Math.round(config.targetSparsity() * weights.size());
      pruned = smallestMagnitudes(weights.values(), count);
    }
    byte[] mask = SparseWeights.keptMask(pruned);
    pruned = null; // the flags may go before the survivors are allocated: a layer's worth of heap
    float[] values = weights.values();
    float[] survivors = new float[values.length];
    IntStream.range(0, chunks(values.length)).parallel().forEach(c -> {
      for (int i = c * CHUNK; i < Math.min(values.length, (c + 1) * CHUNK); i++) {
        survivors[i] = (mask[i >>> 3] >>> (i & 7) & 1) != 0 ? values[i] : 0f;
      }
    });
    WeightMatrix prunedWeights = new WeightMatrix(survivors, weights.rows(), weights.cols());
    CompressedWeights kept = config.joint() == null ? new DenseWeights(prunedWeights)
        : jointCompress(config, prunedWeights, importance, mask);
    return new SparseWeights(weights.rows(), weights.cols(), mask, kept);
  }

  private static CompressedWeights jointCompress(PruneConfig config, WeightMatrix weights, float[] importance,
      byte[] mask) {
    if (config.joint() instanceof PalettizeConfig palettize) {
      return Palettizer.palettize(palettize, weights, importance, mask);
    }
    // pruned weights are exact zeros and every range includes 0, so the survivors alone set the scales
    return LinearQuantizer.quantize((LinearQuantizeConfig) config.joint(), weights);
  }

  private static WeightMatrix copy(WeightMatrix weights) {
    return new WeightMatrix(weights.values().clone(), weights.rows(), weights.cols());
  }

  private static int chunks(int n) {
    return (n + CHUNK - 1) / CHUNK;
  }

  private static double fraction(boolean[] flags) {
    long count = 0;
    for (boolean flag : flags) {
      if (flag) {
        count++;
      }
    }
    return (double) count / flags.length;
  }

  static boolean[] belowThreshold(float[] values, double threshold) {
    boolean[] pruned = new boolean[values.length];
    for (int i = 0; i < values.length; i++) {
      pruned[i] = Math.abs(values[i]) < threshold;
    }
    return pruned;
  }

  /**
   * Flags exactly {@code count} of the smallest magnitudes (ties: lower index first) by a two-pass radix select on
   * the bits of |w|, which order like the magnitudes.
   */
  static boolean[] smallestMagnitudes(float[] values, long count) {
    int n = values.length;
    boolean[] pruned = new boolean[n];
    if (count <= 0) {
      return pruned;
    }
    int[] high = histogram(values, 0, 0);
    int highBin = 0;
    long below = 0;
    while (below + high[highBin] < count) {
      below += high[highBin++];
    }
    int[] low = histogram(values, 1, highBin);
    int lowBin = 0;
    while (below + low[lowBin] < count) {
      below += low[lowBin++];
    }
    int threshold = (highBin << 16) | lowBin;
    long tiesToPrune = count - below;
    int chunks = chunks(n);
    int[] tiesIn = new int[chunks];
    IntStream.range(0, chunks).parallel().forEach(c -> {
      int ties = 0;
      for (int i = c * CHUNK; i < Math.min(n, (c + 1) * CHUNK); i++) {
        int bits = magnitudeBits(values[i]);
        pruned[i] = bits < threshold;
        if (bits == threshold) {
          ties++;
        }
      }
      tiesIn[c] = ties;
    });
    // weights equal to the threshold magnitude: the first ones by index are pruned (usually very few)
    for (int c = 0; c < chunks && tiesToPrune > 0; c++) {
      for (int i = c * CHUNK; i < Math.min(n, (c + 1) * CHUNK) && tiesIn[c] > 0 && tiesToPrune > 0; i++) {
        if (magnitudeBits(values[i]) == threshold) {
          pruned[i] = true;
          tiesToPrune--;
        }
      }
    }
    return pruned;
  }

  private static int magnitudeBits(float value) {
    return Float.floatToRawIntBits(value) & 0x7fffffff;
  }

  /** Counts of the high 16 bits of |w| (pass 0), or of the low 16 bits among values whose high bits are highBin. */
  private static int[] histogram(float[] values, int pass, int highBin) {
    int chunks = chunks(values.length);
    int[][] partial = new int[chunks][];
    IntStream.range(0, chunks).parallel().forEach(c -> {
      int[] counts = new int[1 << 16];
      for (int i = c * CHUNK; i < Math.min(values.length, (c + 1) * CHUNK); i++) {
        int bits = magnitudeBits(values[i]);
        if (pass == 0) {
          counts[bits >>> 16]++;
        } else if (bits >>> 16 == highBin) {
          counts[bits & 0xffff]++;
        }
      }
      partial[c] = counts;
    });
    int[] total = new int[1 << 16];
    for (int[] counts : partial) {
      for (int b = 0; b < total.length; b++) {
        total[b] += counts[b];
      }
    }
    return total;
  }

  static boolean[] smallestBlocks(WeightMatrix weights, int blockSize, double targetSparsity) {
    int rows = weights.rows();
    int cols = weights.cols();
    int blocksPerRow = (cols + blockSize - 1) / blockSize;
    float[] values = weights.values();
    float[] scores = new float[rows * blocksPerRow];
    IntStream.range(0, rows).parallel().forEach(r -> {
      for (int b = 0; b < blocksPerRow; b++) {
        int from = r * cols + b * blockSize;
        int to = r * cols + Math.min(cols, (b + 1) * blockSize);
        double sumOfSquares = 0;
        for (int i = from; i < to; i++) {
          sumOfSquares += (double) values[i] * values[i];
        }
        scores[r * blocksPerRow + b] = (float) (sumOfSquares / (to - from));
      }
    });
    boolean[] blockPruned = smallestMagnitudes(scores, Math.round(targetSparsity * scores.length));
    boolean[] pruned = new boolean[values.length];
    IntStream.range(0, rows).parallel().forEach(r -> {
      for (int c = 0; c < cols; c++) {
        pruned[r * cols + c] = blockPruned[r * blocksPerRow + c / blockSize];
      }
    });
    return pruned;
  }

  static boolean[] nOfM(WeightMatrix weights, int n, int m) {
    float[] values = weights.values();
    boolean[] pruned = new boolean[values.length];
    IntStream.range(0, weights.rows()).parallel().forEach(r -> {
      for (int start = r * weights.cols(); start < (r + 1) * weights.cols(); start += m) {
        for (int chosen = 0; chosen < n; chosen++) {
          int smallest = -1;
          for (int i = start; i < start + m; i++) {
            if (!pruned[i] && (smallest < 0 || Math.abs(values[i]) < Math.abs(values[smallest]))) {
              smallest = i;
            }
          }
          pruned[smallest] = true;
        }
      }
    });
    return pruned;
  }
}
