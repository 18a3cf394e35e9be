package dev.bitsweep.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.DenseWeights;
import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.SparseWeights;
import dev.bitsweep.compress.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SparseGptTest {
  private static final WeightMatrix W = Layers.gaussianWeights(32, 256, 21);
  private static final double[] H = Layers.hessian(Layers.correlatedTokens(1024, 256, 22), 1024, 256);

  @ParameterizedTest(name = "{0}x{1} at {2}, block {3}")
  @CsvSource({"32, 256, 0.5, 64", "10, 70, 0.3, 32", "7, 33, 0.9, 128"})
  void unstructuredSparsityIsExact(int rows, int cols, double sparsity, int blockSize) {
    WeightMatrix w = Layers.gaussianWeights(rows, cols, 23);
    double[] h = Layers.hessian(Layers.correlatedTokens(200, cols, 24), 200, cols);
    SparseGptConfig config = SparseGptConfig.unstructured(sparsity).withLazyBatchSize(blockSize);

    SparseWeights sparse = new SparseGpt(config).prune(w, h).weights();

    long expectedPruned = Math.round(sparsity * rows * cols);
    assertEquals((long) rows * cols - expectedPruned, sparse.keptCount());
    WeightMatrix decoded = sparse.decompress();
    for (int i = 0; i < w.size(); i++) {
      if (!sparse.isKept(i)) {
        assertEquals(0f, decoded.values()[i]);
      }
    }
  }

  @Test
  void matchesStraightforwardAlgorithmUnstructured() {
    SparseGptConfig config = SparseGptConfig.unstructured(0.5).withLazyBatchSize(64);
    SparseWeights got = new SparseGpt(config).prune(W, H).weights();
    Reference reference = new Reference(W, H, config);

    assertArrayEquals(reference.pruned, prunedOf(got));
    float[] values = got.decompress().values();
    for (int i = 0; i < values.length; i++) {
      assertEquals(reference.values[i], values[i], 1e-4 * (1 + Math.abs(reference.values[i])), "weight " + i);
    }
  }

  @Test
  void matchesStraightforwardAlgorithmTwoOfFour() {
    SparseGptConfig config = SparseGptConfig.nOfM(2, 4).withLazyBatchSize(32);
    SparseWeights got = new SparseGpt(config).prune(W, H).weights();
    assertArrayEquals(new Reference(W, H, config).pruned, prunedOf(got));
  }

  @Test
  void jointQuantizationMatchesStraightforwardAlgorithm() {
    SparseGptConfig config = SparseGptConfig.nOfM(2, 4).withLazyBatchSize(64).withQuantization(3, false);
    SparseWeights got = new SparseGpt(config).prune(W, H).weights();
    Reference reference = new Reference(W, H, config);

    assertArrayEquals(reference.pruned, prunedOf(got));
    float[] values = got.decompress().values();
    for (int i = 0; i < values.length; i++) {
      assertEquals((float) reference.values[i], values[i], "weight " + i);
    }
  }

  @Test
  void groupedConvHessiansPruneEachRowGroupWithItsOwnHessian() {
    int cols = 16;
    WeightMatrix w = Layers.gaussianWeights(4, cols, 27);
    double[] h0 = Layers.hessian(Layers.correlatedTokens(64, cols, 28), 64, cols);
    double[] h1 = Layers.hessian(Layers.correlatedTokens(64, cols, 29), 64, cols);
    double[] both = new double[2 * cols * cols];
    System.arraycopy(h0, 0, both, 0, h0.length);
    System.arraycopy(h1, 0, both, h0.length, h1.length);
    SparseGpt sparseGpt = new SparseGpt(SparseGptConfig.unstructured(0.5));

    float[] grouped = sparseGpt.prune(w, both).weights().decompress().values();
    float[] first = sparseGpt.prune(new WeightMatrix(Hessians.rows(w, 0, 2), 2, cols), h0).weights().decompress()
        .values();
    float[] second = sparseGpt.prune(new WeightMatrix(Hessians.rows(w, 2, 4), 2, cols), h1).weights().decompress()
        .values();
    float[] expected = new float[4 * cols];
    System.arraycopy(first, 0, expected, 0, 2 * cols);
    System.arraycopy(second, 0, expected, 2 * cols, 2 * cols);
    assertArrayEquals(expected, grouped);
  }

  @Test
  void twoOfFourPatternIsExactAndBeatsMagnitude() {
    SparseWeights sparse = new SparseGpt(SparseGptConfig.nOfM(2, 4)).prune(W, H).weights();
    for (int r = 0; r < W.rows(); r++) {
      for (int start = 0; start < W.cols(); start += 4) {
        int kept = 0;
        for (int k = 0; k < 4; k++) {
          kept += sparse.isKept(r * W.cols() + start + k) ? 1 : 0;
        }
        assertEquals(2, kept, "row " + r + " columns " + start + ".." + (start + 3));
      }
    }
    double ratio = OutputError.of(W, sparse.decompress(), H)
        / OutputError.of(W, MagnitudeBaseline.pruneNOfM(W, 2, 4), H);
    assertTrue(ratio < 0.8, "SparseGPT/magnitude 2:4 error ratio " + ratio);
  }

  @Test
  void beatsMagnitudePruningUnstructured() {
    SparseWeights sparse = new SparseGpt(SparseGptConfig.unstructured(0.5)).prune(W, H).weights();
    assertInstanceOf(DenseWeights.class, sparse.kept());
    double ratio = OutputError.of(W, sparse.decompress(), H) / OutputError.of(W, MagnitudeBaseline.prune(W, 0.5), H);
    assertTrue(ratio < 0.7, "SparseGPT/magnitude error ratio " + ratio);
  }

  @Test
  void jointQuantizationKeepsCodesOnTheGridAndBeatsPruneThenRound() {
    SparseGptConfig config = SparseGptConfig.unstructured(0.5).withQuantization(4, false);
    SparseWeights sparse = new SparseGpt(config).prune(W, H).weights();

    QuantizedWeights kept = assertInstanceOf(QuantizedWeights.class, sparse.kept());
    assertEquals(W.size() / 2, sparse.keptCount());
    for (int i = 0; i < W.size(); i++) {
      assertTrue(kept.code(i) >= 0 && kept.code(i) <= 15, "code " + kept.code(i));
    }
    WeightMatrix magnitudeThenRound =
        RoundToNearest.quantize(MagnitudeBaseline.prune(W, 0.5), 4, 0, false).decompress();
    double ratio = OutputError.of(W, sparse.decompress(), H) / OutputError.of(W, magnitudeThenRound, H);
    assertTrue(ratio < 0.7, "joint SparseGPT+4 bit / magnitude+RTN error ratio " + ratio);
  }

  @Test
  void deadInputsArePrunedFirst() {
    int cols = 64;
    float[] x = Layers.correlatedTokens(30, cols, 25); // fewer tokens than inputs: rank-deficient
    for (int t = 0; t < 30; t++) {
      x[t * cols + 5] = 0;
    }
    WeightMatrix w = Layers.gaussianWeights(8, cols, 26);
    SparseWeights sparse =
        new SparseGpt(SparseGptConfig.unstructured(0.25)).prune(w, Layers.hessian(x, 30, cols)).weights();
    for (int r = 0; r < 8; r++) {
      assertTrue(!sparse.isKept(r * cols + 5), "dead input of row " + r + " kept");
    }
    assertEquals(8 * cols - 128, sparse.keptCount());
  }

  private static boolean[] prunedOf(SparseWeights sparse) {
    boolean[] pruned = new boolean[sparse.rows() * sparse.cols()];
    for (int i = 0; i < pruned.length; i++) {
      pruned[i] = !sparse.isKept(i);
    }
    return pruned;
  }

  /**
   * SparseGPT written straightforwardly in float64: every later column updated after each column, masks chosen at
   * the same points (per block of blockSize columns for unstructured, every m columns for n:m).
   */
  static final class Reference {
    final boolean[] pruned;
    final double[] values;
    final float[] scales;
    final int[] zeros;

    Reference(WeightMatrix weights, double[] h, SparseGptConfig config) {
      int rows = weights.rows();
      int n = weights.cols();
      double[][] u = GptqTest.ReferenceGptq.upperCholeskyOfInverse(
          GptqTest.ReferenceGptq.damped(h, n, config.percdamp()), n);
      double[][] w = new double[rows][n];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < n; c++) {
          w[r][c] = weights.get(r, c);
        }
      }
      pruned = new boolean[rows * n];
      values = new double[rows * n];
      scales = new float[rows];
      zeros = new int[rows];
      if (config.quantizes()) { // asymmetric per-row grid over the original weights
        for (int r = 0; r < rows; r++) {
          double lo = 0;
          double hi = 0;
          for (int c = 0; c < n; c++) {
            lo = Math.min(lo, w[r][c]);
            hi = Math.max(hi, w[r][c]);
          }
          scales[r] = (float) ((hi - lo) / ((1 << config.nbits()) - 1));
          zeros[r] = (int) Math.rint(-lo / scales[r]);
        }
      }
      long total = Math.round(config.targetSparsity() * rows * n);
      for (int c1 = 0; c1 < n; c1 += config.lazyBatchSize()) {
        int c2 = Math.min(n, c1 + config.lazyBatchSize());
        if (!config.structured()) {
          int quota = (int) (Math.round((double) total * c2 / n) - Math.round((double) total * c1 / n));
          pruneSmallest(w, u, rows, n, c1, c2, quota);
        }
        for (int i = c1; i < c2; i++) {
          if (config.structured() && i % config.nmRatio().m() == 0) {
            for (int r = 0; r < rows; r++) {
              int end = Math.min(n, i + config.nmRatio().m());
              for (int taken = 0; taken < config.nmRatio().n(); taken++) {
                int lowest = -1;
                for (int k = i; k < end; k++) {
                  if (!pruned[r * n + k] && (lowest < 0 || saliency(w, u, r, k) < saliency(w, u, r, lowest))) {
                    lowest = k;
                  }
                }
                pruned[r * n + lowest] = true;
              }
            }
          }
          for (int r = 0; r < rows; r++) {
            double kept = pruned[r * n + i] ? 0 : w[r][i];
            if (config.quantizes()) {
              int levels = (1 << config.nbits()) - 1;
              int code = (int) Math.max(0, Math.min(levels, Math.rint((float) kept / scales[r]) + zeros[r]));
              kept = (float) (code - zeros[r]) * scales[r];
            }
            values[r * n + i] = kept;
            double error = (w[r][i] - kept) / u[i][i];
            for (int j = i + 1; j < n; j++) {
              w[r][j] -= error * u[i][j];
            }
          }
        }
      }
    }

    private void pruneSmallest(double[][] w, double[][] u, int rows, int n, int c1, int c2, int quota) {
      for (int taken = 0; taken < quota; taken++) {
        int bestRow = -1;
        int bestCol = -1;
        for (int c = c1; c < c2; c++) {
          for (int r = 0; r < rows; r++) {
            if (!pruned[r * n + c] && (bestRow < 0 || saliency(w, u, r, c) < saliency(w, u, bestRow, bestCol))) {
              bestRow = r;
              bestCol = c;
            }
          }
        }
        pruned[bestRow * n + bestCol] = true;
      }
    }

    private static double saliency(double[][] w, double[][] u, int r, int c) {
      return w[r][c] * w[r][c] / (u[c][c] * u[c][c]);
    }
  }
}
