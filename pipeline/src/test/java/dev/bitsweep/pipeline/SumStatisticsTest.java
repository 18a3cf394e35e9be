package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.pipeline.CollectStatistics.PartialRef;
import dev.bitsweep.pipeline.CollectStatistics.SumPartialsFn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Hessian's chunk partials, written to the statistics store, sum in chunk order whatever order their paths reach
 * the reduction; a missing chunk is an error; a retry after the partials were summed and deleted takes the cache.
 */
class SumStatisticsTest {
  @TempDir Path staging;

  private static HessianAccumulator chunk(long seed) {
    Random random = new Random(seed);
    HessianAccumulator accumulator = HessianAccumulator.forMatMul("w", 3);
    float[] rows = new float[4 * 3];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(8)));
    }
    accumulator.addRows(rows, 4);
    return accumulator;
  }

  private List<PartialRef> write(Path dir, int chunks) {
    List<PartialRef> refs = new ArrayList<>();
    for (int c = 0; c < chunks; c++) {
      Path file = StatisticsCache.partialFile(dir, "w", c);
      StatisticsCache.writePartial(file, chunk(c));
      refs.add(new PartialRef(c, file.toString()));
    }
    return refs;
  }

  @Test
  void chunksSumLeftToRightWhateverOrderTheyArriveIn() {
    List<PartialRef> refs = write(staging.resolve("a"), 4);
    HessianAccumulator expected = chunk(0).merge(chunk(1)).merge(chunk(2)).merge(chunk(3));
    for (long seed = 0; seed < 10; seed++) {
      List<PartialRef> shuffled = new ArrayList<>(refs);
      Collections.shuffle(shuffled, new Random(seed));
      if (seed % 2 == 0) {
        shuffled.add(shuffled.get(0)); // a retried capture task's second output of the same chunk
      }
      LayerStatistics sum = SumPartialsFn.sum("w", shuffled, 4).toStatistics();
      assertArrayEquals(expected.toStatistics().hessian(), sum.hessian(), "seed " + seed);
      assertEquals(16, sum.rows());
    }
  }

  @Test
  void aMissingChunkIsAnError() {
    List<PartialRef> refs = write(staging.resolve("b"), 3);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> SumPartialsFn.sum("w", refs, 4));
    assertEquals("the statistics of w have partial sums of chunks [0, 1, 2], expected [0, 1, 2, 3]; a capture"
        + " task's output is missing", e.getMessage());
  }

  @Test
  void theTotalGoesToTheCacheThePartialsAreDeletedAndARetryTakesTheCache() throws Exception {
    List<PartialRef> refs = write(staging.resolve("c"), 2);
    Path cache = staging.resolve("cache");
    SumPartialsFn.reduce(cache, "w", refs, 2);
    SumPartialsFn.reduce(cache, "w", refs, 2);
    for (PartialRef ref : refs) {
      assertFalse(Files.exists(Path.of(ref.path())), ref.path());
    }
    assertTrue(Files.isRegularFile(StatisticsCache.file(cache, "w")));
    assertArrayEquals(chunk(0).merge(chunk(1)).toStatistics().hessian(), StatisticsCache.read(cache, "w").hessian());
  }
}
