package dev.bitsweep.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NextTokenStatisticsTest {
  private static final int N = 4;
  private static final int T = 7;
  private static final int V = 13;

  private final Random random = new Random(20261201);
  private final float[] original = logits(3.0);
  private final float[] candidate = perturbed(original, 0.7);
  private final long[] tokens = tokens();
  // sequence 1 is padded after 4 tokens, sequence 2 has a hole at position 3, sequence 3 is fully masked but one token
  private final long[] mask = {
    1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 0, 0, 0,
    1, 1, 1, 0, 1, 1, 1,
    1, 0, 0, 0, 0, 0, 0};

  @Test
  void matchesADirectComputation() {
    NextTokenStatistics.Scores scores = NextTokenStatistics.of(FloatBuffer.wrap(original), FloatBuffer.wrap(candidate),
        tokens, mask, N, T, V).finish();
    // direct: plain probabilities (no log-sum-exp), double loops
    double nll = 0;
    double baseline = 0;
    double kl = 0;
    int agree = 0;
    int count = 0;
    for (int s = 0; s < N; s++) {
      for (int p = 0; p < T - 1; p++) {
        if (mask[s * T + p] == 0 || mask[s * T + p + 1] == 0) {
          continue;
        }
        double[] pOrig = softmax(original, (s * T + p) * V);
        double[] pCand = softmax(candidate, (s * T + p) * V);
        int next = (int) tokens[s * T + p + 1];
        nll += -Math.log(pCand[next]);
        baseline += -Math.log(pOrig[next]);
        for (int k = 0; k < V; k++) {
          kl += pOrig[k] * Math.log(pOrig[k] / pCand[k]);
        }
        if (argmax(pOrig) == argmax(pCand)) {
          agree++;
        }
        count++;
      }
    }
    assertEquals(6 + 3 + 4 + 0, count);
    assertEquals(count, scores.positions());
    assertEquals(Math.exp(nll / count), scores.perplexity(), 1e-12 * Math.exp(nll / count));
    assertEquals(Math.exp(baseline / count), scores.baselinePerplexity(), 1e-12 * Math.exp(baseline / count));
    assertEquals(kl / count, scores.klDivergence(), 1e-12);
    assertEquals((double) agree / count, scores.tokenAgreement(), 0);
    assertTrue(scores.klDivergence() > 0.01 && scores.tokenAgreement() < 1 && scores.tokenAgreement() > 0,
        "the perturbation is visible: " + scores);
  }

  @Test
  void withoutAMaskEveryPositionButTheLastCounts() {
    NextTokenStatistics.Scores scores = NextTokenStatistics.of(FloatBuffer.wrap(original), FloatBuffer.wrap(candidate),
        tokens, null, N, T, V).finish();
    assertEquals(N * (T - 1), scores.positions());
  }

  @Test
  void partialsCombineToTheSameBitsInAnyOrderAndSplit() {
    NextTokenStatistics whole = NextTokenStatistics.of(FloatBuffer.wrap(original), FloatBuffer.wrap(candidate),
        tokens, mask, N, T, V);
    List<NextTokenStatistics> perSequence = new ArrayList<>();
    for (int s = 0; s < N; s++) {
      perSequence.add(NextTokenStatistics.of(slice(original, s * T * V, T * V), slice(candidate, s * T * V, T * V),
          Arrays.copyOfRange(tokens, s * T, s * T + T), Arrays.copyOfRange(mask, s * T, s * T + T), 1, T, V));
    }
    for (int round = 0; round < 10; round++) {
      Collections.shuffle(perSequence, random);
      NextTokenStatistics left = NextTokenStatistics.EMPTY;
      for (NextTokenStatistics p : perSequence) {
        left = left.plus(p);
      }
      NextTokenStatistics tree = perSequence.get(0).plus(perSequence.get(1)).plus(perSequence.get(2).plus(perSequence.get(3)));
      assertEquals(whole, left);
      assertEquals(whole, tree);
      assertEquals(whole.finish(), left.finish());
      assertEquals(whole.finish(), tree.finish());
    }
  }

  @Test
  void identicalLogitsAgreeFullyWithZeroDivergence() {
    NextTokenStatistics.Scores scores = NextTokenStatistics.of(FloatBuffer.wrap(original), FloatBuffer.wrap(original),
        tokens, mask, N, T, V).finish();
    assertEquals(1.0, scores.tokenAgreement());
    assertEquals(0.0, scores.klDivergence(), 1e-15);
    assertEquals(scores.baselinePerplexity(), scores.perplexity());
    assertEquals(scores.perplexity(), NextTokenStatistics.perplexity(FloatBuffer.wrap(original), tokens, mask, N, T, V));
  }

  @Test
  void largeLogitsDoNotOverflow() {
    float[] shiftedOriginal = original.clone();
    float[] shiftedCandidate = candidate.clone();
    for (int i = 0; i < shiftedOriginal.length; i++) {
      shiftedOriginal[i] += 10000f;   // exp(10000) overflows a double: only log-sum-exp survives this
      shiftedCandidate[i] -= 10000f;
    }
    NextTokenStatistics.Scores shifted = NextTokenStatistics.of(FloatBuffer.wrap(shiftedOriginal),
        FloatBuffer.wrap(shiftedCandidate), tokens, mask, N, T, V).finish();
    NextTokenStatistics.Scores plain = NextTokenStatistics.of(FloatBuffer.wrap(original), FloatBuffer.wrap(candidate),
        tokens, mask, N, T, V).finish();
    // float32 spacing at 10000 is 2^-10, so the shifted logits are rounded: compare loosely
    assertEquals(plain.perplexity(), shifted.perplexity(), 2e-3 * plain.perplexity());
    assertEquals(plain.klDivergence(), shifted.klDivergence(), 5e-3);
    assertTrue(Double.isFinite(shifted.baselinePerplexity()));
  }

  @Test
  void badInputIsNamed() {
    long[] bad = tokens.clone();
    bad[T + 2] = V;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NextTokenStatistics.of(
        FloatBuffer.wrap(original), FloatBuffer.wrap(candidate), bad, null, N, T, V));
    assertEquals("token id 13 at sequence 1, position 2 is outside the vocabulary of 13 logits", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> NextTokenStatistics.of(FloatBuffer.wrap(original),
        FloatBuffer.wrap(candidate), tokens, null, N, T, V + 1));
    assertTrue(Double.isNaN(NextTokenStatistics.EMPTY.finish().perplexity()));
  }

  private float[] logits(double scale) {
    float[] values = new float[N * T * V];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * scale);
    }
    return values;
  }

  private float[] perturbed(float[] base, double noise) {
    float[] values = base.clone();
    for (int i = 0; i < values.length; i++) {
      values[i] += (float) (random.nextGaussian() * noise);
    }
    return values;
  }

  private long[] tokens() {
    long[] ids = new long[N * T];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(V);
    }
    return ids;
  }

  private static FloatBuffer slice(float[] values, int from, int count) {
    return FloatBuffer.wrap(Arrays.copyOfRange(values, from, from + count));
  }

  private static double[] softmax(float[] logits, int from) {
    double[] p = new double[V];
    double sum = 0;
    for (int k = 0; k < V; k++) {
      p[k] = Math.exp(logits[from + k]);
      sum += p[k];
    }
    for (int k = 0; k < V; k++) {
      p[k] /= sum;
    }
    return p;
  }

  private static int argmax(double[] p) {
    int best = 0;
    for (int k = 1; k < p.length; k++) {
      if (p[k] > p[best]) {
        best = k;
      }
    }
    return best;
  }
}
