package dev.bitsweep.activations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.ConfigException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ActivationHistogramTest {
  private static float[] gaussian(int n, double sigma, long seed) {
    Random random = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (random.nextGaussian() * sigma);
    }
    return v;
  }

  private static float[] concat(float[]... parts) {
    float[] out = new float[Arrays.stream(parts).mapToInt(p -> p.length).sum()];
    int o = 0;
    for (float[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }

  @Test
  void partialsOfDifferentRangesCombineToExactlyTheHistogramOfAllValues() throws Exception {
    float[] a = gaussian(5000, 0.3, 1);
    float[] b = gaussian(3000, 40, 2);
    float[] c = new float[100]; // all zeros
    float[] d = gaussian(10, 1e-3, 4);
    ActivationHistogram whole = ActivationHistogram.of("x", concat(a, b, c, d));
    ActivationHistogram ha = ActivationHistogram.of("x", a);
    ActivationHistogram hb = ActivationHistogram.of("x", b);
    ActivationHistogram hc = ActivationHistogram.of("x", c);
    ActivationHistogram hd = ActivationHistogram.of("x", d);
    assertEquals(whole, ha.plus(hb).plus(hc).plus(hd));
    assertEquals(whole, hd.plus(hc.plus(hb.plus(ha))));
    assertEquals(whole, ActivationHistogram.empty().plus(hc).plus(ha.plus(hd)).plus(hb));
    assertEquals(100 + Arrays.stream(new float[][] {a, b, d}).mapToLong(p -> count(p, 0)).sum(), whole.zeros());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(whole);
    }
    assertEquals(whole, new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray())).readObject());
  }

  private static long count(float[] v, float x) {
    long n = 0;
    for (float f : v) {
      n += f == x ? 1 : 0;
    }
    return n;
  }

  @Test
  void binsHoldTheValuesTheirEdgesSay() {
    float[] v = gaussian(20000, 2, 5);
    ActivationHistogram h = ActivationHistogram.of("x", v);
    double w = h.binWidth();
    assertTrue(Math.scalb(1.0, h.exponent()) > Math.max(-h.min(), h.max()));
    long[] expected = new long[2 * ActivationHistogram.BINS_PER_SIDE];
    for (float x : v) {
      int bin = 0;
      while (-ActivationHistogram.BINS_PER_SIDE * w + (bin + 1) * w <= x) {
        bin++;
      }
      expected[bin]++;
    }
    assertTrue(Arrays.equals(expected, h.counts()));
  }

  @Test
  void percentileRangeHoldsAtLeastThatShareOfValuesAndIsWithinABinOfTheSortedQuantile() {
    float[] v = gaussian(100000, 1, 6);
    ActivationHistogram h = ActivationHistogram.of("x", v);
    ActivationQuantConfig symmetric = ActivationQuantConfig.fromFields(Map.of("calibration", "percentile",
        "percentile", 99.9));
    double t = Calibrators.range("x", h, symmetric)[1];
    float[] abs = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      abs[i] = Math.abs(v[i]);
    }
    Arrays.sort(abs);
    double quantile = abs[(int) Math.ceil(0.999 * v.length) - 1];
    assertTrue(t >= quantile && t - quantile <= h.binWidth(), t + " vs " + quantile);
    ActivationQuantConfig asymmetric = ActivationQuantConfig.fromFields(Map.of("calibration", "percentile",
        "percentile", 99.0, "symmetric", false));
    double[] r = Calibrators.range("x", h, asymmetric);
    float[] sorted = v.clone();
    Arrays.sort(sorted);
    assertTrue(r[1] >= sorted[(int) Math.ceil(0.99 * v.length) - 1] && r[1] - sorted[98999] <= h.binWidth());
    assertTrue(r[0] <= sorted[1000] && sorted[1000] - r[0] <= h.binWidth());
  }

  @Test
  void entropyClipsAHeavyTailButNotAUniformRange() {
    Random random = new Random(9);
    float[] uniform = new float[50000];
    for (int i = 0; i < uniform.length; i++) {
      uniform[i] = random.nextFloat() * 3;
    }
    ActivationQuantConfig entropy = ActivationQuantConfig.fromFields(Map.of("calibration", "entropy"));
    double[] u = Calibrators.range("u", ActivationHistogram.of("u", uniform), entropy);
    assertTrue(u[1] > 2.9, "uniform data keeps its range: " + u[1]);
    float[] tail = gaussian(50000, 1, 10);
    tail[0] = 60;
    tail[1] = -55;
    double[] r = Calibrators.range("t", ActivationHistogram.of("t", tail), entropy);
    assertTrue(r[1] < 10 && r[1] > 2 && r[0] > -10 && r[0] < -2, Arrays.toString(r));
  }

  @Test
  void quantParamsRoundHalfToEvenAndKeepZeroExact() {
    ActivationQuantConfig asymmetricUint8 = ActivationQuantConfig.fromFields(Map.of("dtype", "uint8",
        "symmetric", false));
    QuantParams p = QuantParams.of(-1, 3, asymmetricUint8);
    assertEquals(4f / 255, p.scale());
    assertEquals(64, p.zeroPoint()); // rint(0 + 1 / (4/255)) = rint(63.75)
    assertEquals(0f, p.dequantize(p.quantize(0f)));
    QuantParams unit = new QuantParams(1f, 0, ActivationQuantConfig.Dtype.INT8);
    assertEquals(2, unit.quantize(2.5f));
    assertEquals(4, unit.quantize(3.5f));
    assertEquals(-2, unit.quantize(-2.5f));
    assertEquals(127, unit.quantize(1000f));
    QuantParams symmetric = QuantParams.of(-0.5, 2.54, ActivationQuantConfig.defaults());
    assertEquals((float) (2.54 / 127), symmetric.scale());
    assertEquals(0, symmetric.zeroPoint());
  }

  @Test
  void configErrorsNameTheField() {
    ConfigException dtype = assertThrows(ConfigException.class,
        () -> ActivationQuantConfig.fromFields(Map.of("dtype", "int4")));
    assertEquals("dtype", dtype.field());
    assertTrue(dtype.getMessage().contains("[int8, uint8]"), dtype.getMessage());
    ConfigException percentile = assertThrows(ConfigException.class,
        () -> ActivationQuantConfig.fromFields(Map.of("calibration", "minmax", "percentile", 99.9)));
    assertEquals("percentile", percentile.field());
    ConfigException range = assertThrows(ConfigException.class,
        () -> ActivationQuantConfig.fromFields(Map.of("calibration", "percentile", "percentile", 100.5)));
    assertTrue(range.getMessage().contains("(50, 100]"));
    ConfigException unknown = assertThrows(ConfigException.class,
        () -> ActivationQuantConfig.fromFields(Map.of("symetric", true)));
    assertTrue(unknown.getMessage().contains("did you mean 'symmetric'"), unknown.getMessage());
    assertEquals(99.99, ActivationQuantConfig.fromFields(Map.of("calibration", "percentile")).percentile());
  }
}
