package dev.bitsweep.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConcurrencyBenchmarkTest {
  @Test
  void throughputRatioIsCopiesTimesAloneOverTogether() {
    assertEquals(2.0, new ConcurrencyBenchmark.Result(2, 5.0, 5.0).throughputRatio(), 0);
    assertEquals(1.6, new ConcurrencyBenchmark.Result(2, 4.0, 5.0).throughputRatio(), 1e-15);
    assertEquals(3.0, new ConcurrencyBenchmark.Result(4, 3.0, 4.0).throughputRatio(), 0);
  }

  @Test
  void fewerThanTwoCopiesOrNoRoundIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> ConcurrencyBenchmark.run(8, 8, 1, 3));
    assertThrows(IllegalArgumentException.class, () -> ConcurrencyBenchmark.run(8, 8, 2, 0));
  }

  @Test
  void aSmallRunReportsBothTimesAndTheTask() throws Exception {
    ConcurrencyBenchmark.Result result = ConcurrencyBenchmark.run(16, 64, 2, 1);
    assertEquals(2, result.copies());
    assertTrue(result.aloneSeconds() > 0 && result.togetherSeconds() > 0, result.toString());
    assertTrue(ConcurrencyBenchmark.format(result).contains("group_size=2"), ConcurrencyBenchmark.format(result));
  }
}
