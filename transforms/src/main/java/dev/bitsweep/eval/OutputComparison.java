package dev.bitsweep.eval;

import java.io.Serializable;

/**
 * Partial sums comparing a compressed model's outputs with the original's over some samples; partials of
 * different batches merge by addition, so the final metrics do not depend on how batches were split.
 *
 * <p>For [N, C] outputs (classifiers) top-1 agreement and, with labels, accuracy of both models are counted.
 * For [N, T, D] outputs (token embeddings) each sample's embedding is the mean over its tokens (masked by the
 * attention mask when there is one) and the cosine similarity of the two models' embeddings is summed.
 * Output SNR and max abs diff are over every output element.
 */
public record OutputComparison(
    long samples,
    long labelled,
    long correct,
    long baselineCorrect,
    long agreements,
    long agreementSamples,
    double signalEnergy,
    double noiseEnergy,
    double maxAbsDiff,
    double cosineSum,
    long cosineSamples)
    implements Serializable {

  public static final OutputComparison EMPTY = new OutputComparison(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

  public static OutputComparison of(float[] original, float[] compressed, long[] shape, long[] labels, long[] attentionMask) {
    if (original.length != compressed.length) {
      throw new IllegalArgumentException("outputs differ in size: " + original.length + " vs " + compressed.length);
    }
    int n = (int) shape[0];
    double signal = 0;
    double noise = 0;
    double maxAbs = 0;
    for (int i = 0; i < original.length; i++) {
      double difference = (double) original[i] - compressed[i];
      signal += (double) original[i] * original[i];
      noise += difference * difference;
      maxAbs = Math.max(maxAbs, Math.abs(difference));
    }
    long labelled = 0;
    long correct = 0;
    long baselineCorrect = 0;
    long agreements = 0;
    long agreementSamples = 0;
    double cosineSum = 0;
    long cosineSamples = 0;
    if (shape.length == 2) {
      int classes = (int) shape[1];
      for (int s = 0; s < n; s++) {
        int top = argmax(compressed, s * classes, classes);
        int baselineTop = argmax(original, s * classes, classes);
        agreementSamples++;
        if (top == baselineTop) {
          agreements++;
        }
        if (labels != null) {
          labelled++;
          if (top == labels[s]) {
            correct++;
          }
          if (baselineTop == labels[s]) {
            baselineCorrect++;
          }
        }
      }
    } else if (shape.length == 3) {
      int tokens = (int) shape[1];
      int dim = (int) shape[2];
      for (int s = 0; s < n; s++) {
        double[] a = meanPool(original, s, tokens, dim, attentionMask);
        double[] b = meanPool(compressed, s, tokens, dim, attentionMask);
        cosineSum += cosine(a, b);
        cosineSamples++;
      }
    }
    return new OutputComparison(n, labelled, correct, baselineCorrect, agreements, agreementSamples,
        signal, noise, maxAbs, cosineSum, cosineSamples);
  }

  public OutputComparison plus(OutputComparison other) {
    return new OutputComparison(
        samples + other.samples,
        labelled + other.labelled,
        correct + other.correct,
        baselineCorrect + other.baselineCorrect,
        agreements + other.agreements,
        agreementSamples + other.agreementSamples,
        signalEnergy + other.signalEnergy,
        noiseEnergy + other.noiseEnergy,
        Math.max(maxAbsDiff, other.maxAbsDiff),
        cosineSum + other.cosineSum,
        cosineSamples + other.cosineSamples);
  }

  public Double accuracy() {
    return labelled == 0 ? null : (double) correct / labelled;
  }

  public Double baselineAccuracy() {
    return labelled == 0 ? null : (double) baselineCorrect / labelled;
  }

  public Double agreement() {
    return agreementSamples == 0 ? null : (double) agreements / agreementSamples;
  }

  /** 10·log10(Σy² / Σ(y−ŷ)²); +Infinity when the outputs are identical. */
  public Double outputSnrDb() {
    if (samples == 0) {
      return null;
    }
    return noiseEnergy == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signalEnergy / noiseEnergy);
  }

  public Double embeddingCosine() {
    return cosineSamples == 0 ? null : cosineSum / cosineSamples;
  }

  static int argmax(float[] values, int offset, int length) {
    int best = 0;
    for (int i = 1; i < length; i++) {
      if (values[offset + i] > values[offset + best]) {
        best = i;
      }
    }
    return best;
  }

  private static double[] meanPool(float[] values, int sample, int tokens, int dim, long[] mask) {
    double[] pooled = new double[dim];
    double weight = 0;
    for (int t = 0; t < tokens; t++) {
      double m = mask == null ? 1 : mask[sample * tokens + t];
      if (m == 0) {
        continue;
      }
      weight += m;
      int base = (sample * tokens + t) * dim;
      for (int d = 0; d < dim; d++) {
        pooled[d] += m * values[base + d];
      }
    }
    for (int d = 0; d < dim; d++) {
      pooled[d] /= Math.max(weight, 1e-9);
    }
    return pooled;
  }

  static double cosine(double[] a, double[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    if (na == 0 && nb == 0) {
      return 1;
    }
    return dot / Math.sqrt(na * nb);
  }
}
