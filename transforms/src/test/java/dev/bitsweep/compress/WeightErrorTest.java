package dev.bitsweep.compress;

import static dev.bitsweep.compress.TestWeights.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class WeightErrorTest {
  @Test
  void snrIsSignalOverNoiseInDecibels() {
    WeightMatrix original = matrix(1, 4, 3f, 4f, 0f, 0f);
    // signal 25, noise 0.25 -> 10 log10(100) = 20 dB
    WeightMatrix reconstructed = matrix(1, 4, 3f, 4.5f, 0f, 0f);
    assertEquals(20.0, WeightError.snrDb(original, reconstructed), 1e-12);
    assertEquals(Double.POSITIVE_INFINITY, WeightError.snrDb(original, original));
  }

  @Test
  void sparsityCountsExactZeros() {
    assertEquals(0.5, WeightError.sparsity(matrix(1, 4, 0f, -0f, 1e-30f, 2f)));
  }

  @Test
  void bitsPerWeightOfAnInt8Layer() {
    QuantizedWeights q = LinearQuantizer.quantize(LinearQuantizeConfig.builder().build(), matrix(2, 4, 1, 2, 3, 4, 5,
        6, 7, 8));
    // 8 codes of 1 byte + 2 fp32 scales = 16 bytes over 8 weights
    assertEquals(16.0, WeightError.bitsPerWeight(q));
  }
}
