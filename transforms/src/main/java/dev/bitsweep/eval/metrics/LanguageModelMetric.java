package dev.bitsweep.eval.metrics;

import dev.bitsweep.eval.ModelRunner.Output;
import dev.bitsweep.lm.NextTokenStatistics;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Task {@code language_model}: next-token statistics of the package's logits against the original's on the
 * evaluation token sequences ({@link NextTokenStatistics}: perplexity of both, top-1 next-token agreement, mean
 * KL(original || package)). Reads the token ids from model input {@code input} [batch, sequence], the optional
 * attention mask from model input {@code attentionMask} (same shape, nonzero = real token) and the logits from
 * output {@code output} [batch, sequence, vocabulary].
 */
public record LanguageModelMetric(String input, String attentionMask, String output)
    implements Metric<NextTokenStatistics> {
  private static final long serialVersionUID = 1L;

  @Override
  public NextTokenStatistics partial(MetricBatch batch) {
    Output[] pair = batch.pair(output);
    long[] logits = pair[0].shape();
    if (logits.length != 3) {
      throw new MetricException("output '" + output + "' has shape " + Arrays.toString(logits) + ", but task "
          + "language_model reads next-token logits [batch, sequence, vocabulary]: name the logits output with "
          + "'output'");
    }
    MetricBatch.Input tokens = batch.input(input);
    long[] tokenShape = tokens.shape();
    if (tokenShape.length != 2) {
      throw new MetricException("token input '" + input + "' has shape " + Arrays.toString(tokenShape)
          + ", but task language_model reads token ids [batch, sequence]: name the token input with 'input'");
    }
    if (logits[0] != tokenShape[0] || logits[1] != tokenShape[1]) {
      throw new MetricException("output '" + output + "' has shape " + Arrays.toString(logits) + " for token input '"
          + input + "' of shape " + Arrays.toString(tokenShape) + ": task language_model needs one row of logits per "
          + "input token ([batch, sequence, vocabulary]); name the per-token logits output with 'output'");
    }
    int n = Math.toIntExact(logits[0]);
    int t = Math.toIntExact(logits[1]);
    int v = Math.toIntExact(logits[2]);
    if (v < 2) {
      throw new MetricException("output '" + output + "' has a vocabulary of " + v + " logits per token: a next-token "
          + "distribution needs at least 2; name the logits output with 'output'");
    }
    long[] ids = tokens.longs();
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= v) {
        throw new MetricException("token id " + ids[i] + " at sample " + (tokens.from() + i / t) + ", position "
            + i % t + " of input '" + input + "' is outside the vocabulary of output '" + output + "' (" + v
            + " logits, ids 0.." + (v - 1) + "): the token data, the token input and the logits output must belong "
            + "together");
      }
    }
    long[] mask = null;
    if (attentionMask != null) {
      MetricBatch.Input maskInput = batch.input(attentionMask);
      if (!Arrays.equals(maskInput.shape(), tokenShape)) {
        throw new MetricException("attention mask input '" + attentionMask + "' has shape "
            + Arrays.toString(maskInput.shape()) + " but token input '" + input + "' has "
            + Arrays.toString(tokenShape) + ": the mask needs one entry per token");
      }
      mask = maskInput.longs();
    }
    return NextTokenStatistics.of(FloatBuffer.wrap(pair[0].values()), FloatBuffer.wrap(pair[1].values()), ids, mask,
        n, t, v);
  }

  @Override
  public NextTokenStatistics combine(NextTokenStatistics a, NextTokenStatistics b) {
    return a.plus(b);
  }

  @Override
  public Map<String, Double> finish(NextTokenStatistics partial) {
    NextTokenStatistics.Scores scores = partial.finish();
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("perplexity", orNull(scores.perplexity()));
    values.put("baseline_perplexity", orNull(scores.baselinePerplexity()));
    values.put("token_agreement", orNull(scores.tokenAgreement()));
    values.put("kl_divergence", orNull(scores.klDivergence()));
    return values;
  }

  /** No counted position (every mask pair 0) gives NaN: no value, not a number that means something. */
  private static Double orNull(double value) {
    return Double.isNaN(value) ? null : value;
  }
}
