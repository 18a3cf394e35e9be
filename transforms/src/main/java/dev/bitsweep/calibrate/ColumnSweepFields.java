package dev.bitsweep.calibrate;

import dev.bitsweep.compress.ConfigException;
import java.util.Map;

/**
 * The config fields GPTQ and SparseGPT share because both run Algorithm 1's column sweep: {@code lazy_batch_size}
 * (columns whose error feedback stays inside the batch until it reaches later columns in one GEMM) and
 * {@code percdamp} (the Hessian damping, a fraction of its mean diagonal).
 */
final class ColumnSweepFields {
  static final String LAZY_BATCH_SIZE = "lazy_batch_size";
  static final int DEFAULT_LAZY_BATCH_SIZE = 128;
  static final double DEFAULT_PERCDAMP = 0.01;
  /** {@code block_size} named the lazy batch before; it now means only the quantization block. */
  static final Map<String, String> RENAMED = Map.of("block_size",
      "the lazy column batch is now lazy_batch_size (block_size names only the quantization block)");

  private ColumnSweepFields() {}

  /** Rejects a lazy batch or damping the sweep cannot use; the config checks its own fields first. */
  static void check(int lazyBatchSize, double percdamp) {
    if (lazyBatchSize <= 0) {
      throw new ConfigException(LAZY_BATCH_SIZE, "must be a positive column count (128 is usual), got "
          + lazyBatchSize);
    }
    if (!(percdamp > 0 && percdamp <= 1)) {
      throw new ConfigException("percdamp", "must be in (0, 1] (a fraction of the mean Hessian diagonal; 0.01 is "
          + "usual), got " + percdamp);
    }
  }
}
