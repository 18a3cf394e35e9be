package dev.bitsweep.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.eval.ModelRunner.Output;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Task language_model as a {@link Metric}: the token ids and the attention mask come from the batch's inputs, the
 * values equal a by-hand double log-softmax over the positions the mask keeps, batches combine to the whole, and
 * inputs or outputs that do not fit are errors that say so.
 */
class LanguageModelMetricTest {
  private static final int N = 3;
  private static final int T = 5;
  private static final int V = 7;

  private static NpyArray int64(String name, long[] values, long... shape) {
    ByteBuffer data = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      data.putLong(v);
    }
    return NpyArray.of(Path.of(name + ".npy"), "int64", shape, data.flip());
  }

  private static float[] logits(long seed) {
    Random random = new Random(seed);
    float[] values = new float[N * T * V];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (3 * random.nextGaussian());
    }
    return values;
  }

  private static final long[] TOKENS = {1, 4, 6, 0, 2, 3, 3, 5, 1, 0, 6, 2, 2, 4, 1};
  private static final long[] MASK = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1};

  private static MetricBatch batch(float[] p, float[] q, int from, int to, NpyArray ids, NpyArray mask) {
    int per = T * V;
    long[] shape = {to - from, T, V};
    Map<String, MetricBatch.Input> inputs = mask == null ? Map.of("ids", new MetricBatch.Input(ids, from, to))
        : Map.of("ids", new MetricBatch.Input(ids, from, to), "mask", new MetricBatch.Input(mask, from, to));
    return new MetricBatch(Map.of("logits", new Output(java.util.Arrays.copyOfRange(p, from * per, to * per), shape)),
        Map.of("logits", new Output(java.util.Arrays.copyOfRange(q, from * per, to * per), shape)), null, inputs);
  }

  private static double logSoftmax(float[] x, int row, int k) {
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < V; j++) {
      max = Math.max(max, x[row + j]);
    }
    double sum = 0;
    for (int j = 0; j < V; j++) {
      sum += Math.exp(x[row + j] - max);
    }
    return x[row + k] - max - Math.log(sum);
  }

  @Test
  void valuesFollowTheMaskAndCombineAcrossBatches() {
    Metric<?> built = Metrics.fromFields(Map.of("task", "language_model", "input", "ids", "attention_mask", "mask",
        "output", "logits"), Path.of("."));
    LanguageModelMetric metric = (LanguageModelMetric) built;
    float[] p = logits(1);
    float[] q = logits(2);
    NpyArray ids = int64("ids", TOKENS, N, T);
    NpyArray mask = int64("mask", MASK, N, T);
    double nllP = 0;
    double nllQ = 0;
    double kl = 0;
    int agree = 0;
    int positions = 0;
    for (int s = 0; s < N; s++) {
      for (int t = 0; t + 1 < T; t++) {
        int at = s * T + t;
        if (MASK[at] == 0 || MASK[at + 1] == 0) {
          continue;
        }
        int row = at * V;
        nllP -= logSoftmax(p, row, (int) TOKENS[at + 1]);
        nllQ -= logSoftmax(q, row, (int) TOKENS[at + 1]);
        int argP = 0;
        int argQ = 0;
        for (int k = 0; k < V; k++) {
          double lp = logSoftmax(p, row, k);
          kl += Math.exp(lp) * (lp - logSoftmax(q, row, k));
          argP = p[row + k] > p[row + argP] ? k : argP;
          argQ = q[row + k] > q[row + argQ] ? k : argQ;
        }
        agree += argP == argQ ? 1 : 0;
        positions++;
      }
    }
    assertEquals(10, positions, "sequence 1 loses the positions 2->3, 3->4 and 4->5 to its mask");
    Map<String, Double> whole = metric.finish(metric.partial(batch(p, q, 0, N, ids, mask)));
    assertEquals(Math.exp(nllQ / positions), whole.get("perplexity"), 1e-12);
    assertEquals(Math.exp(nllP / positions), whole.get("baseline_perplexity"), 1e-12);
    assertEquals((double) agree / positions, whole.get("token_agreement"), 0.0);
    assertEquals(kl / positions, whole.get("kl_divergence"), 1e-12);
    Map<String, Double> split = metric.finish(metric.combine(metric.partial(batch(p, q, 2, 3, ids, mask)),
        metric.partial(batch(p, q, 0, 2, ids, mask))));
    assertEquals(whole, split, "exact sums: any batch split gives the same bits");

    // without the mask every position counts
    LanguageModelMetric unmasked = new LanguageModelMetric("ids", null, "logits");
    Map<String, Double> all = unmasked.finish(unmasked.partial(batch(p, p, 0, N, ids, null)));
    assertEquals(1.0, all.get("token_agreement"), 0.0);
    assertEquals(0.0, all.get("kl_divergence"), 0.0);
    assertEquals(all.get("perplexity"), all.get("baseline_perplexity"), 0.0);
  }

  @Test
  void aBatchWhoseMaskKeepsNothingHasNoValues() {
    LanguageModelMetric metric = new LanguageModelMetric("ids", "mask", "logits");
    NpyArray none = int64("mask", new long[N * T], N, T);
    Map<String, Double> values = metric.finish(metric.partial(batch(logits(1), logits(2), 0, N,
        int64("ids", TOKENS, N, T), none)));
    assertNull(values.get("perplexity"));
    assertNull(values.get("kl_divergence"));
  }

  @Test
  void inputsAndOutputsThatDoNotFitAreErrors() {
    NpyArray ids = int64("ids", TOKENS, N, T);
    float[] p = logits(1);
    LanguageModelMetric metric = new LanguageModelMetric("ids", null, "logits");
    MetricBatch rank2 = new MetricBatch(Map.of("logits", new Output(p, new long[] {N, T * V})),
        Map.of("logits", new Output(p, new long[] {N, T * V})), null, Map.of("ids", new MetricBatch.Input(ids, 0, N)));
    assertTrue(assertThrows(MetricException.class, () -> metric.partial(rank2)).getMessage()
        .contains("reads next-token logits [batch, sequence, vocabulary]"));
    long[] big = TOKENS.clone();
    big[7] = V;
    MetricException vocab = assertThrows(MetricException.class,
        () -> metric.partial(batch(p, p, 0, N, int64("ids", big, N, T), null)));
    assertTrue(vocab.getMessage().contains("token id 7 at sample 1, position 2 of input 'ids' is outside the "
        + "vocabulary of output 'logits' (7 logits"), vocab.getMessage());
    MetricException missing = assertThrows(MetricException.class,
        () -> new LanguageModelMetric("tokens", null, "logits").partial(batch(p, p, 0, N, ids, null)));
    assertTrue(missing.getMessage().contains("model input 'tokens' but the batch holds inputs [ids]"));
    MetricException maskShape = assertThrows(MetricException.class, () -> new LanguageModelMetric("ids", "mask",
        "logits").partial(batch(p, p, 0, N, ids, int64("mask", new long[N * (T - 1)], N, T - 1))));
    assertTrue(maskShape.getMessage().contains("attention mask input 'mask' has shape [3, 4]"));
    ConfigException noInput = assertThrows(ConfigException.class,
        () -> Metrics.fromFields(Map.of("task", "language_model", "output", "logits"), Path.of(".")));
    assertEquals("input", noInput.field());
    ConfigException unknown = assertThrows(ConfigException.class, () -> Metrics.fromFields(Map.of("task",
        "language_model", "input", "ids", "output", "logits", "class_axis", 2), Path.of(".")));
    assertEquals("class_axis", unknown.field());
  }
}
