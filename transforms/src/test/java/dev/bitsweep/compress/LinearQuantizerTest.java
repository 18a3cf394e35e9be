package dev.bitsweep.compress;

import static dev.bitsweep.compress.TestWeights.matrix;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LinearQuantizerTest {
  private static LinearQuantizeConfig config(LinearQuantizeConfig.Mode mode, QuantDtype dtype,
      LinearQuantizeConfig.Granularity granularity) {
    return LinearQuantizeConfig.builder().mode(mode).dtype(dtype).granularity(granularity).build();
  }

  private static int[] codes(QuantizedWeights q) {
    int[] codes = new int[q.codes().length];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = q.code(i);
    }
    return codes;
  }

  @Test
  void symmetricInt8RoundsHalfToEven() {
    // max |w| = 127, so scale = 1 and the codes are rint(w)
    WeightMatrix w = matrix(1, 8, 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, -3.5f, 126.5f, 127f);
    QuantizedWeights q = LinearQuantizer.quantize(config(LinearQuantizeConfig.Mode.LINEAR_SYMMETRIC,
        QuantDtype.INT8, LinearQuantizeConfig.Granularity.PER_TENSOR), w);
    assertArrayEquals(new float[] {1f}, q.scales());
    assertNull(q.zeroPoints());
    assertArrayEquals(new int[] {0, 2, 2, 0, -2, -4, 126, 127}, codes(q));
  }

  @Test
  void float16ScalesAreRoundedBeforeTheCodesAreComputed() {
    // max |w| = 1: scale 1/127 = 0.007874016 rounds to the float16 value 0.0078735351...; 1 / that = 127.0077 -> 127
    WeightMatrix w = matrix(1, 4, 1f, -0.5f, 0.25f, 0.0787f);
    LinearQuantizeConfig config = LinearQuantizeConfig.builder().dtype(QuantDtype.INT8)
        .granularity(LinearQuantizeConfig.Granularity.PER_TENSOR).scaleDtype(ScaleDtype.FLOAT16).build();
    QuantizedWeights q = LinearQuantizer.quantize(config, w);
    float half = Float16.toFloat(Float16.fromFloat(1f / 127));
    assertEquals(Float.floatToRawIntBits(half), Float.floatToRawIntBits(q.scales()[0]));
    assertTrue(q.float16Scales());
    int[] expected = new int[4];
    for (int i = 0; i < 4; i++) {
      expected[i] = (int) Math.max(-128, Math.min(127, Math.rint(w.values()[i] / half)));
    }
    assertArrayEquals(expected, codes(q));
    assertEquals(4 + 2, q.payloadBytes(), "four 8-bit codes and one 2-byte scale");
    assertEquals("float16", config.fields().get("scale_dtype"));
    assertEquals(config, LinearQuantizeConfig.fromFields(config.fields()));
  }

  @Test
  void float16ScalesNeverVanishAndRefuseTheUnrepresentable() {
    assertEquals(0x1p-24f, ScaleDtype.FLOAT16.round(1e-12f));
    assertEquals(0.1f, ScaleDtype.FLOAT32.round(0.1f));
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> ScaleDtype.FLOAT16.round(1e5f));
    assertTrue(error.getMessage().contains("scale_dtype: float32"), error.getMessage());
  }

  @Test
  void symmetricInt4PerChannelUsesMaxOverSeven() {
    WeightMatrix w = matrix(2, 4, 7f, 3.5f, -3.5f, 2.5f, -14f, 1f, 3f, 5f);
    QuantizedWeights q = LinearQuantizer.quantize(config(LinearQuantizeConfig.Mode.LINEAR_SYMMETRIC,
        QuantDtype.INT4, LinearQuantizeConfig.Granularity.PER_CHANNEL), w);
    assertArrayEquals(new float[] {1f, 2f}, q.scales());
    // row 1: -14/2 = -7, 0.5 -> 0, 1.5 -> 2, 2.5 -> 2
    assertArrayEquals(new int[] {7, 4, -4, 2, -7, 0, 2, 2}, codes(q));
    assertArrayEquals(new float[] {7, 4, -4, 2, -14, 0, 4, 4}, q.decompress().values());
  }

  @Test
  void symmetricUnsignedTypesUseTheMiddleCodeAsZeroPoint() {
    WeightMatrix w = matrix(1, 4, 7f, -7f, 3.5f, 0f);
    QuantizedWeights uint4 = LinearQuantizer.quantize(config(LinearQuantizeConfig.Mode.LINEAR_SYMMETRIC,
        QuantDtype.UINT4, LinearQuantizeConfig.Granularity.PER_TENSOR), w);
    assertArrayEquals(new int[] {8}, uint4.zeroPoints());
    assertArrayEquals(new int[] {15, 1, 12, 8}, codes(uint4));
    WeightMatrix w8 = matrix(1, 3, 127f, -127f, 0.5f);
    QuantizedWeights uint8 = LinearQuantizer.quantize(config(LinearQuantizeConfig.Mode.LINEAR_SYMMETRIC,
        QuantDtype.UINT8, LinearQuantizeConfig.Granularity.PER_TENSOR), w8);
    assertArrayEquals(new int[] {128}, uint8.zeroPoints());
    assertArrayEquals(new int[] {255, 1, 128}, codes(uint8));
  }

  @Test
  void asymmetricUint8MapsTheRangeIncludingZero() {
    // range [-1, 3]: scale = 4/255, zero point = rint(0 + 1 / (4/255)) = rint(63.75) = 64
    WeightMatrix w = matrix(1, 4, -1f, 0f, 0.5f, 3f);
    QuantizedWeights q = LinearQuantizer.quantize(config(LinearQuantizeConfig.Mode.LINEAR, QuantDtype.UINT8,
        LinearQuantizeConfig.Granularity.PER_TENSOR), w);
    assertEquals((float) (4.0 / 255), q.scales()[0]);
    assertArrayEquals(new int[] {64}, q.zeroPoints());
    // -1/s = -63.75 -> -64 + 64 = 0; 0.5/s = 31.875 -> 32 + 64 = 96; 3/s = 191.25 -> 191 + 64 = 255
    assertArrayEquals(new int[] {0, 64, 96, 255}, codes(q));
    assertEquals(0f, q.decompress().values()[1], "zero stays exactly zero");
  }

  @Test
  void asymmetricInt8OfPositiveValuesStartsAtZero() {
    // range [0, 2.55] -> scale 0.01, zero point rint(-128 - 0) = -128
    WeightMatrix w = matrix(1, 3, 0f, 2.55f, 1.275f);
    QuantizedWeights q = LinearQuantizer.quantize(config(LinearQuantizeConfig.Mode.LINEAR, QuantDtype.INT8,
        LinearQuantizeConfig.Granularity.PER_TENSOR), w);
    assertArrayEquals(new int[] {-128}, q.zeroPoints());
    float scale = (float) (2.55f / 255.0);
    assertEquals(scale, q.scales()[0]);
    int expectedMiddle = (int) Math.rint(1.275f / scale) - 128;
    assertArrayEquals(new int[] {-128, 127, expectedMiddle}, codes(q));
  }

  @Test
  void perBlockHasOneScalePerBlockIncludingAShortLastBlock() {
    WeightMatrix w = matrix(1, 5, 1.75f, -3.5f, 7f, 3.5f, -0.7f);
    QuantizedWeights q = LinearQuantizer.quantize(LinearQuantizeConfig.builder().dtype(QuantDtype.INT4)
        .perBlock(2).build(), w);
    assertEquals(QuantizedWeights.Granularity.PER_BLOCK, q.granularity());
    assertEquals(2, q.blockSize());
    assertArrayEquals(new float[] {0.5f, 1f, 0.1f}, q.scales());
    assertArrayEquals(new int[] {4, -7, 7, 4, -7}, codes(q));
  }

  @Test
  void allZeroBlocksGetScaleOneAndDecodeToZero() {
    WeightMatrix w = matrix(2, 2, 0f, 0f, 1f, -1f);
    QuantizedWeights q = LinearQuantizer.quantize(LinearQuantizeConfig.builder().build(), w);
    assertEquals(1f, q.scales()[0]);
    assertArrayEquals(w.values(), q.decompress().values());
  }

  @Test
  void decodedErrorIsAtMostHalfAScale() {
    WeightMatrix w = TestWeights.GAUSSIAN_1024;
    QuantizedWeights q = LinearQuantizer.quantize(LinearQuantizeConfig.builder().dtype(QuantDtype.UINT8)
        .mode(LinearQuantizeConfig.Mode.LINEAR).build(), w);
    float[] decoded = q.decompress().values();
    for (int i = 0; i < decoded.length; i += 97) {
      float scale = q.scales()[i / w.cols()];
      assertTrue(Math.abs(decoded[i] - w.values()[i]) <= scale * 0.5001, "index " + i);
    }
  }

  @Test
  void gaussianInt8PerChannelReachesAbout41To42Decibels() {
    double snr = TestWeights.snr(TestWeights.GAUSSIAN_1024, LinearQuantizer.quantize(
        LinearQuantizeConfig.builder().build(), TestWeights.GAUSSIAN_1024));
    // 10 log10(12 * 127^2 / E[max|w|]^2): rows of 1024 have smaller maxima (about 3.2) than rows of 4096 (41.3 dB)
    assertTrue(snr >= 42.0 && snr <= 42.3, "int8 per-channel SNR " + snr);
  }

  @Test
  void gaussianInt4Block32ReachesAbout20Point3Decibels() {
    double snr = TestWeights.snr(TestWeights.GAUSSIAN_1024, LinearQuantizer.quantize(
        LinearQuantizeConfig.builder().dtype(QuantDtype.INT4).perBlock(32).build(), TestWeights.GAUSSIAN_1024));
    assertTrue(snr >= 20.2 && snr <= 20.4, "int4 block-32 SNR " + snr);
  }

  @Test
  void rejectsNonFiniteWeightsNamingTheIndex() {
    WeightMatrix w = matrix(2, 2, 1f, 2f, Float.NaN, 3f);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LinearQuantizer.quantize(LinearQuantizeConfig.builder().build(), w));
    assertTrue(e.getMessage().contains("index 2 (row 1, column 0)"), e.getMessage());
  }

  @Test
  void blockLargerThanTheRowIsRejected() {
    ConfigException e = assertThrows(ConfigException.class, () -> LinearQuantizer.quantize(
        LinearQuantizeConfig.builder().perBlock(8).build(), matrix(1, 4, 1, 2, 3, 4)));
    assertEquals("block_size", e.field());
  }
}
