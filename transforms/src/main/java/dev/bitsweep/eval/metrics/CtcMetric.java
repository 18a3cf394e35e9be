package dev.bitsweep.eval.metrics;

import dev.bitsweep.eval.ModelRunner.Output;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Task {@code ctc}: greedy CTC decoding of output {@code output} ([N, T, C] or [N, C, T]: {@code timeAxis} and
 * {@code classAxis} are 1 and 2 in some order): per time step the highest class (lowest index on ties), repeats
 * merged, blanks dropped. Against label sequences: exact-sequence accuracy and character error rate
 * (Σ edit distance / Σ reference length, over the whole set), for the package and the original, and the share of
 * samples decoded identically by both. With a {@code vocabulary} (one symbol per class index) the comparison is on
 * the decoded text's characters (labels as text lines, or token ids mapped through the vocabulary); without, on
 * token ids (labels must then be token ids).
 */
public record CtcMetric(String output, int timeAxis, int classAxis, int blank, List<String> vocabulary)
    implements CountingMetric {

  public CtcMetric {
    if (!(timeAxis == 1 && classAxis == 2 || timeAxis == 2 && classAxis == 1)) {
      throw new MetricException("task ctc: time_axis " + timeAxis + " and class_axis " + classAxis
          + " must be 1 and 2 (in either order) of an [N, T, C] or [N, C, T] output");
    }
    vocabulary = vocabulary == null ? null : List.copyOf(vocabulary);
  }

  @Override
  public Counts partial(MetricBatch batch) {
    Output[] pair = batch.pair(output);
    long[] shape = pair[0].shape();
    if (shape.length != 3) {
      throw new MetricException("task ctc: output '" + output + "' has shape " + Arrays.toString(shape)
          + "; CTC decoding needs a rank-3 [N, T, C] or [N, C, T] output");
    }
    int classes = (int) shape[classAxis];
    if (blank < 0 || blank >= classes) {
      throw new MetricException("task ctc: blank " + blank + " is not a class of output '" + output + "', which has "
          + classes + " classes along axis " + classAxis + "; set blank to the index of the CTC blank");
    }
    if (vocabulary != null && vocabulary.size() != classes) {
      throw new MetricException("task ctc: the vocabulary has " + vocabulary.size() + " entries but output '" + output
          + "' has " + classes + " classes; it needs one line per class index (the blank's line included)");
    }
    Labels labels = batch.requireLabels("ctc");
    if (labels.sequences() == null && labels.texts() == null) {
      throw new MetricException("task ctc needs label sequences: a .npy of token ids [N, L] padded with -1, or a "
          + ".txt with one text line per sample");
    }
    if (labels.texts() != null && vocabulary == null) {
      throw new MetricException("task ctc: text labels need a vocabulary file (one symbol per class index) to turn "
          + "decoded token ids of output '" + output + "' into text");
    }
    int n = (int) shape[0];
    long[] c = new long[7];
    for (int s = 0; s < n; s++) {
      int[] reference = reference(labels, s, classes);
      int[] mine = symbols(decode(pair[1].values(), shape, s));
      int[] theirs = symbols(decode(pair[0].values(), shape, s));
      c[0]++;
      c[1] += Arrays.equals(mine, reference) ? 1 : 0;
      c[2] += editDistance(mine, reference);
      c[3] += reference.length;
      c[4] += Arrays.equals(theirs, reference) ? 1 : 0;
      c[5] += editDistance(theirs, reference);
      c[6] += Arrays.equals(mine, theirs) ? 1 : 0;
    }
    return new Counts(c);
  }

  private int[] reference(Labels labels, int s, int classes) {
    if (labels.texts() != null) {
      return labels.texts().get(s).codePoints().toArray();
    }
    int[] tokens = labels.sequences()[s];
    for (int t : tokens) {
      if (t < 0 || t >= classes || t == blank) {
        throw new MetricException("task ctc: label token " + t + " of sample " + s + " is not a non-blank class of "
            + "output '" + output + "' (classes 0.." + (classes - 1) + ", blank " + blank + ")");
      }
    }
    return symbols(tokens);
  }

  /** Token ids, or with a vocabulary the code points of their text. */
  private int[] symbols(int[] tokens) {
    if (vocabulary == null) {
      return tokens;
    }
    StringBuilder text = new StringBuilder();
    for (int t : tokens) {
      text.append(vocabulary.get(t));
    }
    return text.codePoints().toArray();
  }

  /** Greedy decode of sample {@code s}. */
  int[] decode(float[] values, long[] shape, int s) {
    int a = (int) shape[1];
    int b = (int) shape[2];
    int steps = timeAxis == 1 ? a : b;
    int classes = timeAxis == 1 ? b : a;
    int base = s * a * b;
    List<Integer> out = new ArrayList<>();
    int previous = -1;
    for (int t = 0; t < steps; t++) {
      int best = 0;
      float bestValue = values[base + index(t, 0, steps, classes)];
      for (int k = 1; k < classes; k++) {
        float v = values[base + index(t, k, steps, classes)];
        if (v > bestValue) {
          best = k;
          bestValue = v;
        }
      }
      if (best != previous && best != blank) {
        out.add(best);
      }
      previous = best;
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  private int index(int t, int k, int steps, int classes) {
    return timeAxis == 1 ? t * classes + k : k * steps + t;
  }

  /** Levenshtein distance (unit insert, delete, substitute). */
  static int editDistance(int[] a, int[] b) {
    int[] previous = new int[b.length + 1];
    int[] current = new int[b.length + 1];
    for (int j = 0; j <= b.length; j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length; i++) {
      current[0] = i;
      for (int j = 1; j <= b.length; j++) {
        current[j] = Math.min(previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1),
            Math.min(previous[j] + 1, current[j - 1] + 1));
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length];
  }

  @Override
  public Map<String, Double> finish(Counts c) {
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("sequence_accuracy", Counts.ratio(c.get(1), c.get(0)));
    values.put("cer", Counts.ratio(c.get(2), c.get(3)));
    values.put("baseline_sequence_accuracy", Counts.ratio(c.get(4), c.get(0)));
    values.put("baseline_cer", Counts.ratio(c.get(5), c.get(3)));
    values.put("sequence_agreement", Counts.ratio(c.get(6), c.get(0)));
    return values;
  }
}
