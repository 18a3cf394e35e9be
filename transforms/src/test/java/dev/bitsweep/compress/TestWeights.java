package dev.bitsweep.compress;

import dev.bitsweep.bench.CompressionBenchmark;

/** Shared fixtures: Gaussian weights with fixed seeds. */
final class TestWeights {
  static final WeightMatrix GAUSSIAN_1024 = CompressionBenchmark.gaussian(1024, 1024, 7L);

  private TestWeights() {}

  static WeightMatrix matrix(int rows, int cols, float... values) {
    return new WeightMatrix(values, rows, cols);
  }

  static double snr(WeightMatrix original, CompressedWeights compressed) {
    return WeightError.snrDb(original, compressed.decompress());
  }
}
