package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.pipeline.CollectStatistics.BatchStatistics;
import dev.bitsweep.pipeline.CollectStatistics.SumStatisticsFn;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The per-layer sum is bit-identical whatever order and grouping the partials arrive in. */
class SumStatisticsTest {

  private static List<BatchStatistics> partials(int batches) {
    Random random = new Random(5);
    List<BatchStatistics> partials = new ArrayList<>();
    for (int b = 0; b < batches; b++) {
      HessianAccumulator accumulator = HessianAccumulator.forMatMul("w", 3);
      float[] rows = new float[4 * 3];
      for (int i = 0; i < rows.length; i++) {
        rows[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(8)));
      }
      accumulator.addRows(rows, 4);
      partials.add(new BatchStatistics(b, accumulator.toStatistics()));
    }
    return partials;
  }

  private static LayerStatistics sumInGroups(List<BatchStatistics> partials, int groups) {
    SumStatisticsFn fn = new SumStatisticsFn();
    List<SumStatisticsFn.Sum> sums = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      sums.add(fn.createAccumulator());
    }
    for (int i = 0; i < partials.size(); i++) {
      fn.addInput(sums.get(i % groups), partials.get(i));
    }
    return fn.extractOutput(fn.mergeAccumulators(sums));
  }

  @Test
  void anyOrderAndGroupingGivesTheSameBits() {
    List<BatchStatistics> inOrder = partials(11);
    LayerStatistics reference = sumInGroups(inOrder, 1);
    assertEquals(44, reference.rows());
    for (long seed = 0; seed < 20; seed++) {
      List<BatchStatistics> shuffled = new ArrayList<>(inOrder);
      Collections.shuffle(shuffled, new Random(seed));
      LayerStatistics sum = sumInGroups(shuffled, 1 + (int) (seed % 4));
      assertArrayEquals(reference.hessian(), sum.hessian(), "seed " + seed);
      assertEquals(reference.min(), sum.min());
      assertEquals(reference.max(), sum.max());
    }
  }

  @Test
  void theTreeSumIsTheSumOfAllPartials() {
    List<BatchStatistics> partials = partials(7);
    double[] expected = new double[9];
    for (BatchStatistics partial : partials) {
      for (int i = 0; i < 9; i++) {
        expected[i] += partial.statistics().hessian()[i];
      }
    }
    double[] sum = sumInGroups(partials, 2).hessian();
    for (int i = 0; i < 9; i++) {
      assertEquals(expected[i], sum[i], 1e-12 * Math.abs(expected[i]));
    }
  }
}
