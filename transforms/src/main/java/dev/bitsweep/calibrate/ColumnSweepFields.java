package dev.bitsweep.calibrate;

import dev.bitsweep.compress.ConfigException;

/**
 * The two config fields GPTQ and SparseGPT share because both run the {@link ColumnSweep}: {@code block_size}
 * (columns per lazy batch) and {@code percdamp} (the Hessian damping, a fraction of its mean diagonal).
 */
final class ColumnSweepFields {
  static final int DEFAULT_BLOCK_SIZE = 128;
  static final double DEFAULT_PERCDAMP = 0.01;

  private ColumnSweepFields() {}

  /** Rejects a block size or damping the sweep cannot use; the config checks its own fields first. */
  static void check(int blockSize, double percdamp) {
    if (blockSize <= 0) {
      throw new ConfigException("block_size", "must be a positive column count (128 is usual), got " + blockSize);
    }
    if (!(percdamp > 0 && percdamp <= 1)) {
      throw new ConfigException("percdamp", "must be in (0, 1] (a fraction of the mean Hessian diagonal; 0.01 is "
          + "usual), got " + percdamp);
    }
  }
}
