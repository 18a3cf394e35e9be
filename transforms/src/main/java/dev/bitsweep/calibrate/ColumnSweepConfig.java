package dev.bitsweep.calibrate;

import dev.bitsweep.compress.CompressionConfig;

/**
 * The config of a method that runs Algorithm 1's column sweep (GPTQ, SparseGPT): it needs the layer's input Hessian
 * from calibration, and it sets the sweep's lazy batch and damping ({@link ColumnSweepFields}).
 */
public interface ColumnSweepConfig extends CompressionConfig {
  int lazyBatchSize();

  double percdamp();

  @Override
  default boolean needsCalibration() {
    return true;
  }
}
