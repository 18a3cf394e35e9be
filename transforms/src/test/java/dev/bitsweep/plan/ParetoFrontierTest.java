package dev.bitsweep.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ParetoFrontierTest {
  @Test
  void higherIsBetter() {
    double[] bits = {4.25, 4.44, 6.2, 8.1, 5.0, 4.25};
    double[] accuracy = {0.980, 0.985, 0.985, 0.986, 0.970, 0.975};
    // 5.0 is dominated by 4.25/0.980; 6.2 by 4.44 with the same accuracy; the second 4.25 by the first
    assertArrayEquals(new boolean[] {true, true, false, true, false, false},
        ParetoFrontier.mark(bits, accuracy, true));
  }

  @Test
  void lowerIsBetter() {
    double[] bits = {3, 4, 6, 8};
    double[] perplexity = {12.0, 10.5, 10.9, 10.1};
    assertArrayEquals(new boolean[] {true, true, false, true}, ParetoFrontier.mark(bits, perplexity, false));
  }

  @Test
  void equalPointsAreBothOnItAndNaNIsNever() {
    assertArrayEquals(new boolean[] {true, true, false},
        ParetoFrontier.mark(new double[] {4, 4, Double.NaN}, new double[] {0.9, 0.9, 1.0}, true));
  }

  @Test
  void agreesWithTheDefinitionOnRandomPoints() {
    Random rnd = new Random(5);
    for (int t = 0; t < 300; t++) {
      int n = 1 + rnd.nextInt(9);
      double[] s = new double[n];
      double[] m = new double[n];
      for (int i = 0; i < n; i++) {
        s[i] = rnd.nextInt(5);
        m[i] = rnd.nextInt(5);
      }
      boolean[] higher = ParetoFrontier.mark(s, m, true);
      double[] negated = new double[n];
      for (int i = 0; i < n; i++) {
        negated[i] = -m[i];
      }
      assertArrayEquals(higher, ParetoFrontier.mark(s, negated, false), "lower-is-better mirrors higher-is-better");
      for (int i = 0; i < n; i++) {
        boolean dominated = false;
        for (int j = 0; j < n; j++) {
          dominated |= s[j] <= s[i] && m[j] >= m[i] && (s[j] < s[i] || m[j] > m[i]);
        }
        assertEquals(!dominated, higher[i]);
      }
    }
  }
}
