package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.pipeline.CollectStatistics.PartialRef;
import dev.bitsweep.pipeline.CollectStatistics.SumPartialsFn;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-layer sum is bit-identical whatever bundles the batches are captured in, whatever order the bundles' partial
 * sums (written to the statistics store) reach the reduction, and it is the sum of all batches.
 */
class SumStatisticsTest {
  @TempDir Path staging;

  private static List<LayerStatistics> batches(int count) {
    Random random = new Random(5);
    List<LayerStatistics> batches = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      HessianAccumulator accumulator = HessianAccumulator.forMatMul("w", 3);
      float[] rows = new float[4 * 3];
      for (int i = 0; i < rows.length; i++) {
        rows[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(8)));
      }
      accumulator.addRows(rows, 4);
      batches.add(accumulator.toStatistics());
    }
    return batches;
  }

  /** Captures the batches in {@code bundles} random bundles, as CaptureBatchFn does, and sums the written partials. */
  private LayerStatistics sumInBundles(List<LayerStatistics> batches, int bundles, long seed) {
    Random random = new Random(seed);
    List<Integer> order = new ArrayList<>();
    for (int b = 0; b < batches.size(); b++) {
      order.add(b);
    }
    Collections.shuffle(order, random);
    List<BatchOrderTree<HessianAccumulator>> trees = new ArrayList<>();
    for (int i = 0; i < bundles; i++) {
      trees.add(new BatchOrderTree<>(HessianAccumulator::merge));
    }
    for (int batch : order) {
      trees.get(random.nextInt(bundles)).addBatch(batch, CollectStatistics.leaf(batches.get(batch)));
    }
    List<PartialRef> refs = new ArrayList<>();
    Path dir = staging.resolve("run-" + seed);
    for (BatchOrderTree<HessianAccumulator> tree : trees) {
      for (BatchOrderTree.Subtree<HessianAccumulator> subtree : tree.subtrees()) {
        Path file = StatisticsCache.partialFile(dir, "w", subtree.level(), subtree.start());
        StatisticsCache.writePartial(file, subtree.total());
        refs.add(new PartialRef(subtree.level(), subtree.start(), file.toString()));
      }
    }
    Collections.shuffle(refs, random);
    return SumPartialsFn.sum(refs);
  }

  @Test
  void anyBundlingAndOrderGivesTheSameBits() {
    List<LayerStatistics> batches = batches(11);
    LayerStatistics reference = sumInBundles(batches, 1, 99);
    assertEquals(44, reference.rows());
    for (long seed = 0; seed < 20; seed++) {
      LayerStatistics sum = sumInBundles(batches, 1 + (int) (seed % 5), seed);
      assertArrayEquals(reference.hessian(), sum.hessian(), "seed " + seed);
      assertEquals(reference.rows(), sum.rows());
      assertEquals(reference.min(), sum.min());
      assertEquals(reference.max(), sum.max());
    }
  }

  @Test
  void theTreeSumIsTheSumOfAllBatchesAndItsOrderMatters() {
    List<LayerStatistics> batches = batches(7);
    double[] expected = new double[9];
    for (LayerStatistics batch : batches) {
      for (int i = 0; i < 9; i++) {
        expected[i] += batch.hessian()[i];
      }
    }
    double[] sum = sumInBundles(batches, 3, 1).hessian();
    for (int i = 0; i < 9; i++) {
      assertEquals(expected[i], sum[i], 1e-12 * Math.abs(expected[i]));
    }
    // the values span 16 decades: a left-to-right sum rounds differently, so the fixed tree is what keeps the bits
    assertNotEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(sum));
  }

  @Test
  void subtreesMustBeAligned() {
    BatchOrderTree<Integer> tree = new BatchOrderTree<>(Integer::sum);
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> tree.add(1, 1, 5));
    tree.addBatch(2, 1);
    tree.add(1, 0, 10);
    tree.addBatch(3, 100);
    assertEquals(1, tree.subtrees().size());
    assertEquals(2, tree.subtrees().get(0).level());
    assertEquals(111, tree.total());
  }
}
