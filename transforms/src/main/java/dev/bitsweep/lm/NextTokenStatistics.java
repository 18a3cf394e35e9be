package dev.bitsweep.lm;

import java.io.Serializable;
import java.nio.FloatBuffer;

/**
 * Partial sums of next-token statistics comparing a package's logits with the original model's on the same token
 * sequences: one partial per batch ({@link #of}), {@link #plus} to combine (associative, commutative and exact, so
 * any combine order or batch split gives the same bits), {@link #finish} for the metrics. No Beam in here; a
 * CombineFn wraps it.
 *
 * <p>Position t of a sequence predicts token t + 1; it counts when the attention mask (if any) is 1 at both t and
 * t + 1. Per counted position, with log-softmax computed by log-sum-exp in double:
 * <ul>
 *   <li>NLL = -log q(next token), q the package's next-token distribution; perplexity = exp(mean NLL), and
 *       baseline_perplexity the same with the original's distribution p;</li>
 *   <li>token agreement: argmax p = argmax q (first index on ties);</li>
 *   <li>KL(p || q) = sum_v p_v (log p_v - log q_v), the divergence llama.cpp's {@code --kl-divergence} reports,
 *       averaged over positions.</li>
 * </ul>
 */
public final class NextTokenStatistics implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final NextTokenStatistics EMPTY =
      new NextTokenStatistics(0, 0, ExactSum.ZERO, ExactSum.ZERO, ExactSum.ZERO);

  private final long positions;
  private final long agreements;
  private final ExactSum nll;
  private final ExactSum baselineNll;
  private final ExactSum kl;

  private NextTokenStatistics(long positions, long agreements, ExactSum nll, ExactSum baselineNll, ExactSum kl) {
    this.positions = positions;
    this.agreements = agreements;
    this.nll = nll;
    this.baselineNll = baselineNll;
    this.kl = kl;
  }

  /** The metrics of the combined partials; NaN when no position counted. */
  public record Scores(long positions, double perplexity, double baselinePerplexity, double tokenAgreement,
      double klDivergence) {}

  /**
   * One batch.
   *
   * @param original the original model's logits [n, t, v], row-major from the buffer's index 0
   * @param candidate the package's logits, same shape
   * @param tokens the input token ids [n, t]
   * @param mask the attention mask [n, t] (nonzero = real token) or null for all ones
   */
  public static NextTokenStatistics of(FloatBuffer original, FloatBuffer candidate, long[] tokens, long[] mask,
      int n, int t, int v) {
    long cells = (long) n * t * v;
    if (original.limit() < cells || candidate.limit() < cells) {
      throw new IllegalArgumentException("logits hold " + original.limit() + " and " + candidate.limit()
          + " values, fewer than [" + n + ", " + t + ", " + v + "] = " + cells);
    }
    if (tokens.length != n * t || (mask != null && mask.length != n * t)) {
      throw new IllegalArgumentException("token ids (" + tokens.length + ") and attention mask ("
          + (mask == null ? "none" : mask.length) + ") must have [" + n + ", " + t + "] = " + n * t + " entries");
    }
    long positions = 0;
    long agreements = 0;
    ExactSum.Builder nll = new ExactSum.Builder();
    ExactSum.Builder baselineNll = new ExactSum.Builder();
    ExactSum.Builder kl = new ExactSum.Builder();
    for (int s = 0; s < n; s++) {
      for (int p = 0; p + 1 < t; p++) {
        int here = s * t + p;
        if (mask != null && (mask[here] == 0 || mask[here + 1] == 0)) {
          continue;
        }
        long next = tokens[here + 1];
        if (next < 0 || next >= v) {
          throw new IllegalArgumentException("token id " + next + " at sequence " + s + ", position " + (p + 1)
              + " is outside the vocabulary of " + v + " logits");
        }
        int row = here * v;
        double lseOriginal = logSumExp(original, row, v);
        double lseCandidate = logSumExp(candidate, row, v);
        nll.add(lseCandidate - candidate.get(row + (int) next));
        baselineNll.add(lseOriginal - original.get(row + (int) next));
        double divergence = 0;
        for (int k = 0; k < v; k++) {
          double logP = original.get(row + k) - lseOriginal;
          double logQ = candidate.get(row + k) - lseCandidate;
          double prob = Math.exp(logP);
          if (prob > 0) {
            divergence += prob * (logP - logQ);
          }
        }
        kl.add(divergence);
        if (argmax(original, row, v) == argmax(candidate, row, v)) {
          agreements++;
        }
        positions++;
      }
    }
    return new NextTokenStatistics(positions, agreements, nll.build(), baselineNll.build(), kl.build());
  }

  public NextTokenStatistics plus(NextTokenStatistics other) {
    return new NextTokenStatistics(positions + other.positions, agreements + other.agreements, nll.plus(other.nll),
        baselineNll.plus(other.baselineNll), kl.plus(other.kl));
  }

  public Scores finish() {
    if (positions == 0) {
      return new Scores(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    return new Scores(positions, Math.exp(nll.value() / positions), Math.exp(baselineNll.value() / positions),
        (double) agreements / positions, kl.value() / positions);
  }

  public long positions() {
    return positions;
  }

  /** Perplexity of one model's logits (original and candidate the same). */
  public static double perplexity(FloatBuffer logits, long[] tokens, long[] mask, int n, int t, int v) {
    return of(logits, logits, tokens, mask, n, t, v).finish().perplexity();
  }

  static double logSumExp(FloatBuffer logits, int from, int count) {
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < count; k++) {
      max = Math.max(max, logits.get(from + k));
    }
    if (Double.isInfinite(max)) {
      return max;
    }
    double sum = 0;
    for (int k = 0; k < count; k++) {
      sum += Math.exp(logits.get(from + k) - max);
    }
    return max + Math.log(sum);
  }

  private static int argmax(FloatBuffer logits, int from, int count) {
    int best = 0;
    float bestValue = logits.get(from);
    for (int k = 1; k < count; k++) {
      float value = logits.get(from + k);
      if (value > bestValue) {
        best = k;
        bestValue = value;
      }
    }
    return best;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NextTokenStatistics s && positions == s.positions && agreements == s.agreements
        && nll.equals(s.nll) && baselineNll.equals(s.baselineNll) && kl.equals(s.kl);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(positions, agreements, nll, baselineNll, kl);
  }
}
