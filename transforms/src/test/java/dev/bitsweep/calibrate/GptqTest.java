package dev.bitsweep.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.WeightMatrix;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GptqTest {

  @ParameterizedTest(name = "{0} bits, group {1}, symmetric {2}, block {3}, act_order {4}")
  @CsvSource({
      "4, 0, true, 128, false",
      "3, 16, false, 32, false",
      "4, 24, true, 32, false",
      "2, 0, false, 8, false",
      "8, 32, true, 128, false",
      "4, 0, false, 16, true",
      "4, 16, false, 32, true"})
  void matchesStraightforwardAlgorithmOne(int nbits, int groupSize, boolean symmetric, int blockSize,
      boolean actOrder) {
    WeightMatrix w = Layers.gaussianWeights(16, 64, 1);
    double[] h = Layers.hessian(Layers.correlatedTokens(512, 64, 2), 512, 64);
    GptqConfig config = new GptqConfig(nbits, groupSize, symmetric, blockSize, 0.01, actOrder);

    QuantizedWeights got = new Gptq(config).quantize("test", w, h).weights();

    ReferenceGptq reference = new ReferenceGptq(w, h, config);
    int[] gotCodes = IntStream.range(0, got.codes().length).map(got::code).toArray();
    assertArrayEquals(reference.codes, gotCodes);
    // scales fit during the run see float32 (product) vs float64 (reference) error feedback: equal to rounding
    for (int s = 0; s < got.scales().length; s++) {
      assertEquals(reference.scales[s], got.scales()[s], 1e-5 * reference.scales[s], "scale " + s);
    }
    assertEquals(nbits <= 4 ? (symmetric ? QuantDtype.INT4 : QuantDtype.UINT4)
        : (symmetric ? QuantDtype.INT8 : QuantDtype.UINT8), got.dtype());
  }

  @Test
  void tinyLayerIsBetweenExactOptimumAndRoundToNearest() {
    WeightMatrix w = new WeightMatrix(new float[] {0.9f, -0.35f, 0.2f}, 1, 3);
    // strongly correlated inputs: rounding errors can cancel
    double[] h = {1, 0.9, 0.8, 0.9, 1, 0.9, 0.8, 0.9, 1};
    GptqConfig config = new GptqConfig(2, 0, false, 128, 0.01, false);

    WeightMatrix gptq = new Gptq(config).quantize(w, h).weights().decompress();
    QuantizedWeights rtn = RoundToNearest.quantize(w, 2, 0, false);
    double gptqError = OutputError.of(w, gptq, h);
    double rtnError = OutputError.of(w, rtn.decompress(), h);

    // exact optimum over every code combination on the same grid (scale and zero point of the row)
    float scale = rtn.scales()[0];
    int zero = rtn.zeroPoints()[0];
    double best = Double.POSITIVE_INFINITY;
    for (int a = 0; a < 4; a++) {
      for (int b = 0; b < 4; b++) {
        for (int c = 0; c < 4; c++) {
          float[] q = {GptqGrid.decode(a, scale, zero), GptqGrid.decode(b, scale, zero),
              GptqGrid.decode(c, scale, zero)};
          best = Math.min(best, OutputError.of(w, new WeightMatrix(q, 1, 3), h));
        }
      }
    }
    assertTrue(gptqError < rtnError, "GPTQ " + gptqError + " vs RTN " + rtnError);
    assertTrue(gptqError >= best - 1e-12, "GPTQ " + gptqError + " below the exact optimum " + best);
    // on this case the greedy column order happens to reach the optimum (0.0147 vs RTN 0.1022)
    assertEquals(best, gptqError, 1e-9 * best);
  }

  @Test
  void beatsRoundToNearestOnARandomLayer() {
    WeightMatrix w = Layers.gaussianWeights(64, 256, 3);
    double[] h = Layers.hessian(Layers.correlatedTokens(1024, 256, 4), 1024, 256);
    for (int groupSize : new int[] {0, 32}) {
      WeightMatrix gptq = new Gptq(GptqConfig.of(4, groupSize)).quantize(w, h).weights().decompress();
      WeightMatrix rtn = RoundToNearest.quantize(w, 4, groupSize, true).decompress();
      double ratio = OutputError.of(w, gptq, h) / OutputError.of(w, rtn, h);
      assertTrue(ratio < 0.7, "group " + groupSize + ": GPTQ/RTN error ratio " + ratio);
    }
  }

  @Test
  void rankDeficientHessianWithDeadInputsWorksThroughDamping() {
    int cols = 64;
    float[] x = Layers.correlatedTokens(24, cols, 5);
    int[] dead = {3, 17, 40};
    for (int t = 0; t < 24; t++) {
      for (int d : dead) {
        x[t * cols + d] = 0;
      }
    }
    double[] h = Layers.hessian(x, 24, cols);
    WeightMatrix w = Layers.gaussianWeights(8, cols, 6);

    Gptq.Result result = new Gptq(GptqConfig.of(4, 16)).quantize(w, h);
    WeightMatrix q = result.weights().decompress();

    for (int r = 0; r < 8; r++) {
      for (int d : dead) {
        assertEquals(0f, q.get(r, d), "dead input " + d + " of row " + r);
      }
    }
    double gptqError = OutputError.of(w, q, h);
    double rtnError = OutputError.of(w, RoundToNearest.quantize(w, 4, 16, true).decompress(), h);
    assertTrue(Double.isFinite(gptqError) && gptqError < rtnError, gptqError + " vs " + rtnError);
  }

  @Test
  void indefiniteHessianRetriesWithMoreDampingAndReportsIt() {
    int cols = 32;
    double[] h = Layers.hessian(Layers.correlatedTokens(8, cols, 7), 8, cols); // rank 8: many zero eigenvalues
    double mean = IntStream.range(0, cols).mapToDouble(i -> h[i * cols + i]).average().orElseThrow();
    for (int i = 0; i < cols; i++) {
      h[i * cols + i] -= 0.05 * mean; // eigenvalues down to -0.05 mean: 1% damping fails, 10% works
    }
    WeightMatrix w = Layers.gaussianWeights(4, cols, 8);

    Gptq.Result result = new Gptq(GptqConfig.of(4, 0)).quantize(w, h);

    assertEquals(0.1, result.percdampUsed(), 1e-12);
    assertEquals(4 * cols, result.weights().codes().length);
  }

  @Test
  void hopelessHessianFailsNamingTheLayer() {
    double[] h = new double[16];
    for (int i = 0; i < 4; i++) {
      h[i * 4 + i] = -1;
    }
    var error = assertThrows(IllegalArgumentException.class,
        () -> new Gptq(GptqConfig.of(4, 0)).quantize("encoder.0.fc1", Layers.gaussianWeights(2, 4, 9), h));
    assertTrue(error.getMessage().startsWith("encoder.0.fc1: "), error.getMessage());
    assertTrue(error.getMessage().contains("not positive definite"), error.getMessage());
  }

  @Test
  void layerWithoutCalibrationDataIsRejectedRatherThanZeroed() {
    var error = assertThrows(IllegalArgumentException.class,
        () -> new Gptq(GptqConfig.of(4, 0)).quantize("decoder.fc2", Layers.gaussianWeights(2, 3, 9), new double[9]));
    assertTrue(error.getMessage().startsWith("decoder.fc2: ") && error.getMessage().contains("all zero"),
        error.getMessage());
  }

  @Test
  void nonFiniteHessianIsRejected() {
    double[] h = {1, 0, 0, Double.NaN};
    var error = assertThrows(IllegalArgumentException.class,
        () -> new Gptq(GptqConfig.of(4, 0)).quantize("fc", Layers.gaussianWeights(2, 2, 9), h));
    assertTrue(error.getMessage().contains("NaN"), error.getMessage());
  }

  @Test
  void groupedConvHessiansQuantizeEachRowGroupWithItsOwnHessian() {
    int cols = 9;
    WeightMatrix w = Layers.gaussianWeights(6, cols, 10);
    double[] h0 = Layers.hessian(Layers.correlatedTokens(50, cols, 11), 50, cols);
    double[] h1 = Layers.hessian(Layers.correlatedTokens(50, cols, 12), 50, cols);
    double[] both = new double[2 * cols * cols];
    System.arraycopy(h0, 0, both, 0, h0.length);
    System.arraycopy(h1, 0, both, h0.length, h1.length);
    GptqConfig config = GptqConfig.of(3, 0);

    QuantizedWeights grouped = new Gptq(config).quantize(w, both).weights();
    QuantizedWeights first = new Gptq(config).quantize(rows(w, 0, 3), h0).weights();
    QuantizedWeights second = new Gptq(config).quantize(rows(w, 3, 6), h1).weights();

    byte[] expected = new byte[6 * cols];
    System.arraycopy(first.codes(), 0, expected, 0, 3 * cols);
    System.arraycopy(second.codes(), 0, expected, 3 * cols, 3 * cols);
    assertArrayEquals(expected, grouped.codes());
  }

  @Test
  void inverseHessianFactorIsTheUpperCholeskyFactorOfTheInverse() {
    int n = 12;
    double[] h = Layers.hessian(Layers.correlatedTokens(40, n, 13), 40, n);
    try (InverseHessianFactor u = InverseHessianFactor.of("t", h, n, 0.01)) {
      double[][] expected = ReferenceGptq.upperCholeskyOfInverse(ReferenceGptq.damped(h, n, 0.01), n);
      float[] got = u.block(0, n, 0, n);
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          assertEquals(expected[i][j], got[i * n + j], 1e-5 * Math.abs(expected[i][i]), "U[" + i + "][" + j + "]");
        }
      }
    }
  }

  private static WeightMatrix rows(WeightMatrix w, int from, int to) {
    return new WeightMatrix(Arrays.copyOfRange(w.values(), from * w.cols(), to * w.cols()), to - from, w.cols());
  }

  /**
   * The paper's Algorithm 1 written straightforwardly, in float64: no lazy batches, every later column updated after
   * each quantized column, H⁻¹ from a plain Cholesky. Grid: the same definition as the product (asymmetric: range
   * including 0, integer zero point; symmetric: 2·max|w|/(2^n-1)), written out here independently.
   */
  static final class ReferenceGptq {
    final int[] codes;
    final float[] scales;

    ReferenceGptq(WeightMatrix weights, double[] hessian, GptqConfig config) {
      int rows = weights.rows();
      int n = weights.cols();
      double[] h = hessian.clone();
      double[][] w = new double[rows][n];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < n; c++) {
          w[r][c] = weights.get(r, c);
        }
      }
      for (int i = 0; i < n; i++) {
        if (h[i * n + i] == 0) {
          h[i * n + i] = 1;
          for (int r = 0; r < rows; r++) {
            w[r][i] = 0;
          }
        }
      }
      int span = config.groupSize() == 0 ? n : config.groupSize();
      int groups = (n + span - 1) / span;
      scales = new float[rows * groups];
      int[] zeros = new int[rows * groups];
      codes = new int[rows * n];
      boolean fitUpFront = config.groupSize() == 0 || config.actOrder();
      if (fitUpFront) {
        for (int r = 0; r < rows; r++) {
          for (int g = 0; g < groups; g++) {
            fit(w[r], g * span, Math.min(n, (g + 1) * span), config, scales, zeros, r * groups + g);
          }
        }
      }
      Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
      if (config.actOrder()) {
        Arrays.sort(order, Comparator.comparingDouble(i -> -h[i * n + i]));
      }
      double[] permuted = new double[n * n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          permuted[i * n + j] = h[order[i] * n + order[j]];
        }
      }
      double[][] u = upperCholeskyOfInverse(damped(permuted, n, config.percdamp()), n);
      for (int r = 0; r < rows; r++) {
        double[] row = new double[n];
        for (int k = 0; k < n; k++) {
          row[k] = w[r][order[k]];
        }
        for (int k = 0; k < n; k++) {
          int original = order[k];
          if (!fitUpFront && original % span == 0) {
            fit(row, k, Math.min(n, k + span), config, scales, zeros, r * groups + original / span);
          }
          int s = r * groups + original / span;
          int q = code(row[k], scales[s], zeros[s], config);
          codes[r * n + original] = q;
          double dequantized = (float) (q - zeros[s]) * scales[s];
          double error = (row[k] - dequantized) / u[k][k];
          for (int j = k + 1; j < n; j++) {
            row[j] -= error * u[k][j];
          }
        }
      }
    }

    private static void fit(double[] row, int from, int to, GptqConfig config, float[] scales, int[] zeros, int at) {
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (int c = from; c < to; c++) {
        lo = Math.min(lo, (float) row[c]);
        hi = Math.max(hi, (float) row[c]);
      }
      int levels = (1 << config.nbits()) - 1;
      if (config.symmetric()) {
        double amax = Math.max(Math.abs(lo), Math.abs(hi));
        scales[at] = (float) (2 * (amax == 0 ? 1 : amax) / levels);
      } else {
        lo = Math.min(lo, 0);
        hi = Math.max(hi, 0);
        if (lo == 0 && hi == 0) {
          lo = -1;
          hi = 1;
        }
        scales[at] = (float) ((hi - lo) / levels);
        zeros[at] = (int) Math.min(levels, Math.max(0, Math.rint(-lo / scales[at])));
      }
    }

    private static int code(double w, float scale, int zero, GptqConfig config) {
      int low = config.symmetric() ? -(1 << (config.nbits() - 1)) : 0;
      int high = config.symmetric() ? (1 << (config.nbits() - 1)) - 1 : (1 << config.nbits()) - 1;
      return (int) Math.max(low, Math.min(high, Math.rint((float) w / scale) + zero));
    }

    static double[] damped(double[] h, int n, double percdamp) {
      double mean = 0;
      for (int i = 0; i < n; i++) {
        mean += h[i * n + i] / n;
      }
      double[] out = h.clone();
      for (int i = 0; i < n; i++) {
        out[i * n + i] += percdamp * mean;
      }
      return out;
    }

    /** Cholesky H = L Lᵀ, H⁻¹ = L⁻ᵀ L⁻¹ column by column, then the upper factor U of H⁻¹ = Uᵀ U. */
    static double[][] upperCholeskyOfInverse(double[] h, int n) {
      double[][] l = cholesky(h, n);
      double[][] inverse = new double[n][n];
      for (int col = 0; col < n; col++) {
        double[] e = new double[n];
        e[col] = 1;
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
          double s = e[i];
          for (int k = 0; k < i; k++) {
            s -= l[i][k] * y[k];
          }
          y[i] = s / l[i][i];
        }
        for (int i = n - 1; i >= 0; i--) {
          double s = y[i];
          for (int k = i + 1; k < n; k++) {
            s -= l[k][i] * inverse[k][col];
          }
          inverse[i][col] = s / l[i][i];
        }
      }
      double[] flat = new double[n * n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          flat[i * n + j] = inverse[i][j];
        }
      }
      double[][] lower = cholesky(flat, n);
      double[][] upper = new double[n][n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          upper[i][j] = lower[j][i];
        }
      }
      return upper;
    }

    static double[][] cholesky(double[] a, int n) {
      double[][] l = new double[n][n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++) {
          double s = a[i * n + j];
          for (int k = 0; k < j; k++) {
            s -= l[i][k] * l[j][k];
          }
          l[i][j] = i == j ? Math.sqrt(s) : s / l[j][j];
        }
      }
      return l;
    }
  }
}
