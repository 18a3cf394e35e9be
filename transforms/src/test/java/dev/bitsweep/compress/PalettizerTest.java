package dev.bitsweep.compress;

import static dev.bitsweep.compress.TestWeights.matrix;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.PalettizeConfig.LutDtype;
import dev.bitsweep.compress.PalettizeConfig.Mode;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PalettizerTest {
  private static final WeightMatrix GAUSSIAN = TestWeights.GAUSSIAN_1024;

  private static PalettizeConfig.Builder kmeans(int nbits) {
    return PalettizeConfig.builder().nbits(nbits);
  }

  @ParameterizedTest(name = "{0}-bit group {1}")
  @CsvSource({
      "2, 0, 9.30, 9.33",
      "2, 16, 9.30, 9.33",
      "4, 0, 20.22, 20.27",
      "4, 16, 20.27, 20.33",
      "6, 0, 31.90, 32.00",
      "6, 16, 32.20, 32.35"})
  // the population optima of N(0, 1) are 9.30 / 20.22 / 31.9 dB; groups of 16 rows (16k values) fit their own
  // sample a little better, most visibly with 64 entries
  void gaussianKMeansReachesTheKnownOptima(int nbits, int groupSize, double low, double high) {
    PalettizeConfig.Builder builder = kmeans(nbits);
    if (groupSize > 0) {
      builder.perGroupedChannel(groupSize);
    }
    PalettizedWeights result = Palettizer.palettize(builder.build(), GAUSSIAN);
    double snr = TestWeights.snr(GAUSSIAN, result);
    assertTrue(snr >= low && snr <= high, nbits + "-bit g" + groupSize + " SNR " + snr);
    assertEquals(groupSize > 0 ? 1024 / groupSize : 1, result.groupCount());
  }

  @Test
  void smallLayerEqualsTheBruteForceOptimumWithAnFp32Table() {
    Random random = new Random(2);
    for (int trial = 0; trial < 50; trial++) {
      float[] values = new float[12];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) random.nextGaussian();
      }
      WeightMatrix w = matrix(3, 4, values);
      PalettizedWeights p = Palettizer.palettize(kmeans(2).lutDtype(LutDtype.FP32).build(), w);
      double error = squaredError(w, p.decompress());
      double expected = bruteForceError(values, 4);
      // the table holds the optimal centroids rounded to fp32
      assertEquals(expected, error, 1e-6 * expected, "trial " + trial);
    }
  }

  /** Least squared error of any split of the sorted values into k contiguous runs (each at its mean). */
  private static double bruteForceError(float[] values, int k) {
    double[] sorted = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      sorted[i] = values[i];
    }
    java.util.Arrays.sort(sorted);
    return split(sorted, 0, k);
  }

  private static double split(double[] x, int from, int k) {
    if (k == 1 || from == x.length) {
      double mean = 0;
      for (int i = from; i < x.length; i++) {
        mean += x[i] / (x.length - from);
      }
      double cost = 0;
      for (int i = from; i < x.length; i++) {
        cost += (x[i] - mean) * (x[i] - mean);
      }
      return cost;
    }
    double best = Double.POSITIVE_INFINITY;
    for (int end = from + 1; end <= x.length; end++) {
      double mean = 0;
      for (int i = from; i < end; i++) {
        mean += x[i] / (end - from);
      }
      double cost = 0;
      for (int i = from; i < end; i++) {
        cost += (x[i] - mean) * (x[i] - mean);
      }
      best = Math.min(best, cost + split(x, end, k - 1));
    }
    return best;
  }

  private static double squaredError(WeightMatrix a, WeightMatrix b) {
    double sum = 0;
    for (int i = 0; i < a.size(); i++) {
      double d = a.values()[i] - b.values()[i];
      sum += d * d;
    }
    return sum;
  }

  @Test
  void handExampleGivesTheOptimalTableAndIndices() {
    WeightMatrix w = matrix(2, 3, 0f, 10f, 0f, 11f, 1f, 30f);
    PalettizedWeights p = Palettizer.palettize(kmeans(2).lutDtype(LutDtype.FP32).build(), w);
    // four clusters: {0,0} {1} {10,11} {30} (error 0.5) beats {0,0,1} {10} {11} {30} (error 2/3)
    assertArrayEquals(new float[] {0f, 1f, 10.5f, 30f}, p.tables());
    assertArrayEquals(new byte[] {0, 2, 0, 2, 1, 3}, p.indices());
    PalettizedWeights three = Palettizer.palettize(kmeans(2).lutDtype(LutDtype.FP32).build(), matrix(1, 3, 5f, 1f, 5f));
    // fewer distinct values than entries: the table repeats its last entry
    assertArrayEquals(new float[] {1f, 5f, 5f, 5f}, three.tables());
  }

  @Test
  void fp16TablesHoldExactlyWhatFp16Decodes() {
    PalettizedWeights p = Palettizer.palettize(kmeans(4).perGroupedChannel(64).build(), GAUSSIAN);
    assertEquals(PalettizedWeights.TableType.FLOAT16, p.tableType());
    for (float t : p.tables()) {
      assertEquals(t, Float16.toFloat(Float16.fromFloat(t)));
    }
  }

  @Test
  void indicesPointAtTheNearestTableEntry() {
    PalettizedWeights p = Palettizer.palettize(kmeans(3).perGroupedChannel(256).build(), GAUSSIAN);
    for (int i = 0; i < GAUSSIAN.size(); i += 101) {
      int r = i / GAUSSIAN.cols();
      int base = (r / p.groupSize()) * p.tableSize();
      float chosen = p.tables()[base + (p.indices()[i] & 0xff)];
      for (int j = 0; j < p.tableSize(); j++) {
        assertTrue(Math.abs(GAUSSIAN.values()[i] - chosen) <= Math.abs(GAUSSIAN.values()[i] - p.tables()[base + j]));
      }
    }
  }

  @Test
  void weightedKMeansFollowsTheImportance() {
    // two weights with importance 0 must not pull the single centroid
    WeightMatrix w = matrix(1, 4, 1f, 1f, 100f, -100f);
    float[] importance = {1, 1, 0, 0};
    PalettizedWeights p = Palettizer.palettize(kmeans(1).lutDtype(LutDtype.FP32).build(), w, importance);
    // 2 entries: the optimum under the importance puts one entry at 1; the other takes zero-weight points
    float[] decoded = p.decompress().values();
    assertEquals(1f, decoded[0]);
    assertEquals(1f, decoded[1]);
    // importance 3:1 between two values in one cluster: centroid at the weighted mean
    WeightMatrix pair = matrix(1, 2, 0f, 4f);
    PalettizedWeights single = Palettizer.palettize(PalettizeConfig.builder().nbits(1).mode(Mode.CUSTOM)
        .customLut(List.of(0.0, 4.0)).build(), pair);
    assertArrayEquals(pair.values(), single.decompress().values());
    WeightMatrix three = matrix(1, 3, 0f, 4f, 100f);
    PalettizedWeights weighted = Palettizer.palettize(kmeans(1).lutDtype(LutDtype.FP32).build(), three,
        new float[] {3, 1, 1});
    assertEquals(1f, weighted.tables()[0]);
    assertEquals(100f, weighted.tables()[1]);
  }

  @Test
  void uniformTableIsEvenlySpacedFromMinToMax() {
    WeightMatrix w = matrix(1, 5, -1f, 2f, 0.1f, 0.9f, 1.4f);
    PalettizedWeights p = Palettizer.palettize(PalettizeConfig.builder().mode(Mode.UNIFORM).nbits(2)
        .lutDtype(LutDtype.FP32).build(), w);
    assertArrayEquals(new float[] {-1f, 0f, 1f, 2f}, p.tables());
    assertArrayEquals(new float[] {-1f, 2f, 0f, 1f, 1f}, p.decompress().values());
  }

  @Test
  void uniqueIsLosslessAndRefusesTooManyValues() {
    WeightMatrix w = matrix(2, 3, 0.5f, -2f, 0.5f, 0.25f, -2f, 8f);
    PalettizedWeights p = Palettizer.palettize(PalettizeConfig.builder().mode(Mode.UNIQUE).nbits(2).build(), w);
    assertArrayEquals(w.values(), p.decompress().values());
    ConfigException tooMany = assertThrows(ConfigException.class, () -> Palettizer.palettize(
        PalettizeConfig.builder().mode(Mode.UNIQUE).nbits(1).build(), w));
    assertEquals("nbits", tooMany.field());
    assertTrue(tooMany.getMessage().contains("has 4"), tooMany.getMessage());
    ConfigException notFp16 = assertThrows(ConfigException.class, () -> Palettizer.palettize(
        PalettizeConfig.builder().mode(Mode.UNIQUE).nbits(1).build(), matrix(1, 2, 0.1f, 0.2f)));
    assertEquals("lut_dtype", notFp16.field());
  }

  @Test
  void customTableIsUsedAsGiven() {
    WeightMatrix w = matrix(1, 4, -0.9f, -0.2f, 0.3f, 5f);
    PalettizedWeights p = Palettizer.palettize(PalettizeConfig.builder().mode(Mode.CUSTOM).nbits(2)
        .customLut(List.of(1.0, -1.0, 0.0)).lutDtype(LutDtype.FP32).build(), w);
    assertArrayEquals(new float[] {-1f, 0f, 1f, 1f}, p.tables());
    assertArrayEquals(new float[] {-1f, 0f, 0f, 1f}, p.decompress().values());
  }

  @Test
  void quantizedTablesDecodeFromTheirCodes() {
    for (LutDtype dtype : new LutDtype[] {LutDtype.INT8, LutDtype.UINT8}) {
      PalettizedWeights p = Palettizer.palettize(kmeans(4).perGroupedChannel(128).lutDtype(dtype).build(), GAUSSIAN);
      int width = p.tableSize();
      for (int i = 0; i < p.tables().length; i++) {
        int g = i / width;
        int code = dtype == LutDtype.INT8 ? p.tableCodes()[i] : p.tableCodes()[i] & 0xff;
        assertEquals((float) (code - p.tableZeroPoints()[g]) * p.tableScales()[g], p.tables()[i]);
      }
      double snr = TestWeights.snr(GAUSSIAN, p);
      assertTrue(snr > 20.0 && snr < 20.3, dtype + " table SNR " + snr);
    }
  }

  @Test
  void perChannelScalesAreFp16RowMaximaAndDecodeMultiplies() {
    WeightMatrix w = matrix(2, 2, 1f, -3f, 0.5f, 0.25f);
    PalettizedWeights p = Palettizer.palettize(kmeans(1).enablePerChannelScale(true).lutDtype(LutDtype.FP32)
        .build(), w);
    assertArrayEquals(new float[] {3f, 0.5f}, p.channelScales());
    float[] decoded = p.decompress().values();
    for (int i = 0; i < 4; i++) {
      int r = i / 2;
      assertEquals(p.tables()[p.indices()[i] & 0xff] * p.channelScales()[r], decoded[i]);
    }
    PalettizedWeights onGaussian = Palettizer.palettize(kmeans(4).enablePerChannelScale(true).build(), GAUSSIAN);
    for (float s : onGaussian.channelScales()) {
      assertEquals(s, Float16.round(s));
    }
    double snr = TestWeights.snr(GAUSSIAN, onGaussian);
    assertTrue(snr > 19.5 && snr < 20.3, "per-channel-scaled 4-bit SNR " + snr);
  }

  @Test
  void vectorPalettizationClustersPairs() {
    WeightMatrix w = matrix(2, 4, 1f, 2f, 1f, 2f, -1f, 5f, -1f, 5f);
    PalettizedWeights p = Palettizer.palettize(kmeans(1).clusterDim(2).lutDtype(LutDtype.FP32).build(), w);
    assertEquals(2, p.clusterDim());
    assertArrayEquals(w.values(), p.decompress().values());
    WeightMatrix g = TestWeights.GAUSSIAN_1024;
    PalettizedWeights pairs = Palettizer.palettize(kmeans(4).clusterDim(2).perGroupedChannel(256).build(), g);
    double snr = TestWeights.snr(g, pairs);
    // 16 entries for pairs is 2 bits per weight: better than the scalar 2-bit optimum (9.30 dB)
    assertTrue(snr > 9.4 && snr < 10.5, "2-D 4-bit SNR " + snr);
  }

  @Test
  void resultsDoNotDependOnTheThreadCount() throws Exception {
    PalettizeConfig grouped = kmeans(4).perGroupedChannel(16).build();
    PalettizeConfig perTensor = kmeans(6).build();
    for (PalettizeConfig config : List.of(grouped, perTensor)) {
      PalettizedWeights parallel = Palettizer.palettize(config, GAUSSIAN);
      ForkJoinPool single = new ForkJoinPool(1);
      try {
        PalettizedWeights sequential = single.submit(() -> Palettizer.palettize(config, GAUSSIAN)).get();
        assertArrayEquals(parallel.tables(), sequential.tables());
        assertArrayEquals(parallel.indices(), sequential.indices());
      } finally {
        single.shutdown();
      }
    }
  }

  @Test
  void rejectsBadInputNamingIt() {
    WeightMatrix w = matrix(2, 2, 1f, Float.POSITIVE_INFINITY, 0f, 1f);
    IllegalArgumentException infinite = assertThrows(IllegalArgumentException.class,
        () -> Palettizer.palettize(kmeans(2).build(), w));
    assertTrue(infinite.getMessage().contains("index 1"), infinite.getMessage());
    IllegalArgumentException importance = assertThrows(IllegalArgumentException.class,
        () -> Palettizer.palettize(kmeans(2).build(), matrix(1, 2, 1f, 2f), new float[] {1f}));
    assertTrue(importance.getMessage().contains("importance"), importance.getMessage());
    IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
        () -> Palettizer.palettize(kmeans(2).build(), matrix(1, 2, 1f, 2f), new float[] {1f, -1f}));
    assertTrue(negative.getMessage().contains("index 1"), negative.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new WeightMatrix(new float[0], 0, 4));
    ConfigException groups = assertThrows(ConfigException.class,
        () -> Palettizer.palettize(kmeans(2).perGroupedChannel(3).build(), matrix(2, 2, 1, 2, 3, 4)));
    assertEquals("group_size", groups.field());
    ConfigException clusterDim = assertThrows(ConfigException.class,
        () -> Palettizer.palettize(kmeans(2).clusterDim(3).build(), matrix(2, 2, 1, 2, 3, 4)));
    assertEquals("cluster_dim", clusterDim.field());
    ConfigException fp16Range = assertThrows(ConfigException.class,
        () -> Palettizer.palettize(kmeans(1).build(), matrix(1, 2, 1e6f, 0f)));
    assertEquals("lut_dtype", fp16Range.field());
  }

  @Test
  void noChannelScalesUnlessEnabled() {
    assertNull(Palettizer.palettize(kmeans(2).build(), matrix(1, 2, 1f, 2f)).channelScales());
  }
}
