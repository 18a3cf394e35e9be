package dev.bitsweep;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Test oracle for the language-model columns: runs a model file with ONNX Runtime Java on token sequences (in the
 * sweep's batches) and computes perplexity, next-token agreement and KL divergence with a plain double-precision
 * log-softmax, summed in order: no bitsweep metric code involved.
 */
public final class NextTokenReference {
  private NextTokenReference() {}

  /** Logits [sequence][position][vocabulary] of {@code model} for {@code tokens} [sequences][positions]. */
  public static float[][][] logits(Path model, String input, String output, long[][] tokens, int batchSize)
      throws Exception {
    return logits(model, Map.of(input, tokens), output, batchSize);
  }

  /** The same with several int64 inputs [sequences][positions] (e.g. token ids and an attention mask). */
  public static float[][][] logits(Path model, Map<String, long[][]> inputs, String output, int batchSize)
      throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    List<float[][]> rows = new ArrayList<>();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      options.addConfigEntry("session.disable_quant_qdq", "1");
      try (OrtSession session = env.createSession(model.toString(), options)) {
        long[][] first = inputs.values().iterator().next();
        int t = first[0].length;
        for (int from = 0; from < first.length; from += batchSize) {
          int n = Math.min(batchSize, first.length - from);
          Map<String, OnnxTensor> feeds = new java.util.HashMap<>();
          try {
            for (Map.Entry<String, long[][]> input : inputs.entrySet()) {
              long[] flat = new long[n * t];
              for (int s = 0; s < n; s++) {
                System.arraycopy(input.getValue()[from + s], 0, flat, s * t, t);
              }
              feeds.put(input.getKey(), OnnxTensor.createTensor(env, LongBuffer.wrap(flat), new long[] {n, t}));
            }
            try (OrtSession.Result result = session.run(feeds)) {
              float[][][] batch = (float[][][]) result.get(output).orElseThrow().getValue();
              for (float[][] sequence : batch) {
                rows.add(sequence);
              }
            }
          } finally {
            feeds.values().forEach(OnnxTensor::close);
          }
        }
      }
    }
    return rows.toArray(new float[0][][]);
  }

  /** perplexity (of q), baseline perplexity (of p), token agreement, mean KL(p || q) over every next-token position. */
  public static double[] statistics(float[][][] p, float[][][] q, long[][] tokens) {
    return statistics(p, q, tokens, null);
  }

  /** The same over the positions t whose mask is nonzero at t and t + 1 (all positions when {@code mask} is null). */
  public static double[] statistics(float[][][] p, float[][][] q, long[][] tokens, long[][] mask) {
    double nllP = 0;
    double nllQ = 0;
    double kl = 0;
    long agree = 0;
    long positions = 0;
    for (int s = 0; s < tokens.length; s++) {
      for (int i = 0; i + 1 < tokens[s].length; i++) {
        if (mask != null && (mask[s][i] == 0 || mask[s][i + 1] == 0)) {
          continue;
        }
        double[] logP = logSoftmax(p[s][i]);
        double[] logQ = logSoftmax(q[s][i]);
        int next = (int) tokens[s][i + 1];
        nllP -= logP[next];
        nllQ -= logQ[next];
        double d = 0;
        for (int k = 0; k < logP.length; k++) {
          d += Math.exp(logP[k]) * (logP[k] - logQ[k]);
        }
        kl += d;
        agree += argmax(p[s][i]) == argmax(q[s][i]) ? 1 : 0;
        positions++;
      }
    }
    return new double[] {Math.exp(nllQ / positions), Math.exp(nllP / positions), (double) agree / positions,
        kl / positions};
  }

  private static double[] logSoftmax(float[] row) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : row) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (float v : row) {
      sum += Math.exp(v - max);
    }
    double log = max + Math.log(sum);
    double[] out = new double[row.length];
    for (int k = 0; k < row.length; k++) {
      out[k] = row[k] - log;
    }
    return out;
  }

  private static int argmax(float[] row) {
    int best = 0;
    for (int k = 1; k < row.length; k++) {
      if (row[k] > row[best]) {
        best = k;
      }
    }
    return best;
  }
}
