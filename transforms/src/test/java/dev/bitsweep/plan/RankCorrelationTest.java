package dev.bitsweep.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RankCorrelationTest {
  @Test
  void tiesGetTheAverageRank() {
    assertArrayEquals(new double[] {1, 2.5, 2.5, 4, 5}, RankCorrelation.ranks(new double[] {1, 2, 2, 4, 5}));
    assertArrayEquals(new double[] {3, 1.5, 1.5}, RankCorrelation.ranks(new double[] {9, -1, -1}));
  }

  @Test
  void matchesAHandComputationWithTies() {
    // ranks x = 1, 2.5, 2.5, 4, 5 and y = 2, 1, 4, 3, 5 (means 3): sum dxdy = 2 + 1 - 0.5 + 0 + 4 = 6.5,
    // sum dx^2 = 4 + .25 + .25 + 1 + 4 = 9.5, sum dy^2 = 1 + 4 + 1 + 0 + 4 = 10
    double rho = RankCorrelation.spearman(new double[] {1, 2, 2, 4, 5}, new double[] {20, 10, 40, 30, 50});
    assertEquals(6.5 / Math.sqrt(95), rho, 1e-15);
    assertEquals(0.6668859288553503, rho, 1e-15);
  }

  @Test
  void monotoneRelationsAreOneOrMinusOne() {
    double[] x = {0.1, 3, 7, 20, 400};
    assertEquals(1.0, RankCorrelation.spearman(x, new double[] {1, 2, 3, 4, 5}), 1e-15);
    assertEquals(-1.0, RankCorrelation.spearman(x, new double[] {50, 40, 30, 20, -10}), 1e-15);
  }

  @Test
  void undefinedCasesAreNaNOrRejected() {
    assertTrue(Double.isNaN(RankCorrelation.spearman(new double[] {1, 2, 3}, new double[] {5, 5, 5})));
    assertTrue(Double.isNaN(RankCorrelation.spearman(new double[] {1}, new double[] {5})));
    assertThrows(IllegalArgumentException.class, () -> RankCorrelation.spearman(new double[] {1, 2}, new double[] {1}));
    assertThrows(IllegalArgumentException.class,
        () -> RankCorrelation.spearman(new double[] {1, Double.NaN}, new double[] {1, 2}));
  }
}
