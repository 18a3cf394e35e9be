package dev.bitsweep.compress;

import static dev.bitsweep.compress.TestWeights.matrix;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

class PrunerTest {
  private static final WeightMatrix GAUSSIAN = TestWeights.GAUSSIAN_1024;

  private static boolean[] kept(SparseWeights sparse) {
    boolean[] kept = new boolean[sparse.rows() * sparse.cols()];
    for (int i = 0; i < kept.length; i++) {
      kept[i] = sparse.isKept(i);
    }
    return kept;
  }

  @Test
  void unstructuredPrunesExactlyTheSmallestMagnitudesWithTiesToTheLowerIndex() {
    WeightMatrix w = matrix(2, 4, 0.5f, -0.1f, 0.3f, -0.3f, 2f, 0.3f, -0.05f, 1f);
    SparseWeights sparse = (SparseWeights) Pruner.prune(PruneConfig.magnitude(0.5), w);
    // the 4 smallest: 0.05, 0.1, then two of the three 0.3s (indices 2 and 3 before 5)
    assertArrayEquals(new boolean[] {true, false, false, false, true, true, false, true}, kept(sparse));
    assertArrayEquals(new float[] {0.5f, 0, 0, 0, 2f, 0.3f, 0, 1f}, sparse.decompress().values());
    assertInstanceOf(DenseWeights.class, sparse.kept());
  }

  @Test
  void zeroCountIsTheRoundedTargetFraction() {
    for (double target : new double[] {0.0, 0.1, 0.5, 0.75, 0.999}) {
      SparseWeights sparse = (SparseWeights) Pruner.prune(PruneConfig.magnitude(target), GAUSSIAN);
      assertEquals(GAUSSIAN.size() - Math.round(target * GAUSSIAN.size()), sparse.keptCount(), "target " + target);
    }
  }

  @Test
  void gaussianHalfPruningReachesAbout11Point5Decibels() {
    CompressedWeights result = Pruner.prune(PruneConfig.magnitude(0.5), GAUSSIAN);
    double snr = TestWeights.snr(GAUSSIAN, result);
    // for N(0, 1) the smallest half of |w| (below 0.6745) holds 7.13% of the energy: 10 log10(1 / 0.0712) = 11.47 dB
    assertTrue(snr >= 11.40 && snr <= 11.55, "SNR " + snr);
    assertEquals(0.5, WeightError.sparsity(result.decompress()), 1e-9);
  }

  @Test
  void nOfMZeroesTheNSmallestOfEveryMConsecutiveWeights() {
    WeightMatrix w = matrix(2, 8, 1f, -4f, 3f, 2f, 0f, 0f, 5f, -5f, 9f, 1f, 1f, 1f, -2f, 3f, 1f, 0.5f);
    SparseWeights sparse = (SparseWeights) Pruner.prune(PruneConfig.builder().nmRatio(2, 4).build(), w);
    assertArrayEquals(new boolean[] {false, true, true, false, false, false, true, true, true, false, false, true,
        true, true, false, false}, kept(sparse));
    SparseWeights oneOfFour = (SparseWeights) Pruner.prune(PruneConfig.builder().nmRatio(3, 4).build(), GAUSSIAN);
    assertEquals(GAUSSIAN.size() / 4, oneOfFour.keptCount());
    for (int start = 0; start < GAUSSIAN.size(); start += 4) {
      int keptInGroup = 0;
      float keptMagnitude = 0;
      float largest = 0;
      for (int i = start; i < start + 4; i++) {
        largest = Math.max(largest, Math.abs(GAUSSIAN.values()[i]));
        if (oneOfFour.isKept(i)) {
          keptInGroup++;
          keptMagnitude = Math.abs(GAUSSIAN.values()[i]);
        }
      }
      assertEquals(1, keptInGroup);
      assertEquals(largest, keptMagnitude);
    }
  }

  @Test
  void blocksAreZeroedWholeByMeanSquare() {
    // blocks of 2 along rows: scores (mean square) 2.5, 0.5, 6.5, 0.125; half of 4 blocks pruned
    WeightMatrix w = matrix(2, 4, 1f, 2f, 1f, 0f, 3f, 2f, 0.5f, 0f);
    SparseWeights sparse = (SparseWeights) Pruner.prune(PruneConfig.builder().targetSparsity(0.5).pruneBlockSize(2).build(),
        w);
    assertArrayEquals(new boolean[] {true, true, false, false, true, true, false, false}, kept(sparse));
    // a short last block (cols 5, block 2) is scored by its own mean square
    WeightMatrix odd = matrix(1, 5, 1f, 1f, 3f, 3f, 2f);
    SparseWeights oddSparse = (SparseWeights) Pruner.prune(PruneConfig.builder().targetSparsity(0.6).pruneBlockSize(2)
        .build(), odd);
    // 3 blocks (1, 9, 4); round(0.6 * 3) = 2 pruned
    assertArrayEquals(new boolean[] {false, false, true, true, false}, kept(oddSparse));
  }

  @Test
  void thresholdZeroesSmallMagnitudesOrLeavesTheLayerDense() {
    WeightMatrix w = matrix(1, 4, 0.01f, -0.02f, 0.5f, 0.005f);
    PruneConfig config = PruneConfig.builder().mode(PruneConfig.Mode.THRESHOLD).threshold(0.03).build();
    SparseWeights sparse = (SparseWeights) Pruner.prune(config, w);
    assertArrayEquals(new float[] {0, 0, 0.5f, 0}, sparse.decompress().values());
    PruneConfig strict = PruneConfig.builder().mode(PruneConfig.Mode.THRESHOLD).threshold(0.015)
        .minimumSparsityPercentile(0.75).build();
    CompressedWeights dense = Pruner.prune(strict, w);
    assertInstanceOf(DenseWeights.class, dense);
    assertArrayEquals(w.values(), dense.decompress().values());
  }

  @Test
  void jointPalettizationClustersOnlyTheSurvivors() {
    // survivors take two values: a 1-bit table holds them exactly, pruned small values do not disturb it
    WeightMatrix w = matrix(2, 4, 3f, 0.1f, -3f, 0.2f, 3f, -0.1f, 3f, -3f);
    PruneConfig config = PruneConfig.builder().targetSparsity(0.375)
        .joint(PalettizeConfig.builder().nbits(1).build()).build();
    SparseWeights sparse = (SparseWeights) Pruner.prune(config, w);
    PalettizedWeights palettized = assertInstanceOf(PalettizedWeights.class, sparse.kept());
    assertArrayEquals(new float[] {-3f, 3f}, palettized.tables());
    assertArrayEquals(new float[] {3f, 0, -3f, 0, 3f, 0, 3f, -3f}, sparse.decompress().values());
    double snr = TestWeights.snr(GAUSSIAN, Pruner.prune(PruneConfig.builder().targetSparsity(0.5)
        .joint(PalettizeConfig.builder().nbits(4).build()).build(), GAUSSIAN));
    assertTrue(snr > 11.0 && snr < 11.5, "prune 50% + 4-bit SNR " + snr);
  }

  @Test
  void jointQuantizationKeepsTheMaskExact() {
    PruneConfig config = PruneConfig.builder().nmRatio(2, 4).joint(LinearQuantizeConfig.builder().build()).build();
    SparseWeights sparse = (SparseWeights) Pruner.prune(config, GAUSSIAN);
    assertInstanceOf(QuantizedWeights.class, sparse.kept());
    float[] decoded = sparse.decompress().values();
    float[] quantized = sparse.kept().decompress().values();
    for (int i = 0; i < decoded.length; i++) {
      assertEquals(sparse.isKept(i) ? quantized[i] : 0f, decoded[i]);
    }
    assertEquals(0.5, WeightError.sparsity(sparse.decompress()), 1e-3);
  }

  @Test
  void resultsDoNotDependOnTheThreadCount() throws Exception {
    PruneConfig config = PruneConfig.magnitude(0.3);
    SparseWeights parallel = (SparseWeights) Pruner.prune(config, GAUSSIAN);
    ForkJoinPool single = new ForkJoinPool(1);
    try {
      SparseWeights sequential = (SparseWeights) single.submit(() -> Pruner.prune(config, GAUSSIAN)).get();
      assertArrayEquals(parallel.mask(), sequential.mask());
    } finally {
      single.shutdown();
    }
  }

  @Test
  void layerDependentErrorsNameTheField() {
    ConfigException block = assertThrows(ConfigException.class, () -> Pruner.prune(
        PruneConfig.builder().pruneBlockSize(8).build(), matrix(1, 4, 1, 2, 3, 4)));
    assertEquals("prune_block_size", block.field());
    ConfigException nm = assertThrows(ConfigException.class, () -> Pruner.prune(
        PruneConfig.builder().nmRatio(1, 4).build(), matrix(1, 6, 1, 2, 3, 4, 5, 6)));
    assertEquals("n_m_ratio", nm.field());
    ConfigException joint = assertThrows(ConfigException.class, () -> Pruner.prune(
        PruneConfig.builder().joint(PalettizeConfig.builder().perGroupedChannel(4).build()).build(),
        matrix(2, 2, 1, 2, 3, 4)));
    assertEquals("joint.group_size", joint.field());
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> Pruner.prune(PruneConfig.magnitude(0.5), matrix(1, 3, 1f, 2f, Float.NaN)));
    assertTrue(nan.getMessage().contains("index 2"), nan.getMessage());
  }
}
