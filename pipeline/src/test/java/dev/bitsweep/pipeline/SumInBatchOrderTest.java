package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.bitsweep.eval.OutputComparison;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Combining per-batch comparisons, and a failed batch's error, whatever order the batches arrive in. */
class SumInBatchOrderTest {
  private static OutputComparison batch(float shift) {
    return OutputComparison.of(new float[] {1, 2, 3, 4}, new float[] {1, 2 + shift, 3, 4}, new long[] {2, 2},
        null, null);
  }

  private static EvalSummary combine(List<EvalPartial> partials) {
    SumInBatchOrder fn = new SumInBatchOrder();
    TreeMap<Integer, EvalPartial> first = fn.createAccumulator();
    TreeMap<Integer, EvalPartial> second = fn.createAccumulator();
    for (int i = 0; i < partials.size(); i++) {
      fn.addInput(i % 2 == 0 ? first : second, partials.get(i));
    }
    return fn.extractOutput(fn.mergeAccumulators(List.of(second, first)));
  }

  @Test
  void sumsEveryBatch() {
    EvalSummary summary = combine(List.of(EvalPartial.of(1, batch(0.5f), 2).withSessionTimes(0, 1.5),
        EvalPartial.of(0, batch(0f), 1).withSessionTimes(0.25, 0.5)));
    assertNull(summary.error());
    assertEquals(batch(0f).plus(batch(0.5f)), summary.comparison());
    assertEquals(2, summary.batches());
    assertEquals(3.0, summary.seconds(), 0.0);
    assertEquals(0.25, summary.sessionSeconds(), 0.0);
    assertEquals(2.0, summary.runSeconds(), 0.0);
  }

  @Test
  void theFirstFailedBatchInBatchOrderIsTheError() {
    EvalSummary summary = combine(List.of(EvalPartial.failed(3, "late", 1), EvalPartial.of(0, batch(0f), 1),
        EvalPartial.failed(2, "early", 1)));
    assertEquals("evaluation of batch 2 failed: early", summary.error());
    assertEquals(batch(0f), summary.comparison(), "only the batches that ran");
    assertEquals(3, summary.batches());
  }
}
