package dev.bitsweep.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.eval.ModelRunner.Output;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Each metric against an independent computation, and partials that combine to the one-batch result. */
class MetricsTest {
  private static MetricBatch batch(String name, float[] original, float[] packaged, long[] shape, Labels labels) {
    return new MetricBatch(Map.of(name, new Output(original, shape)), Map.of(name, new Output(packaged, shape)), labels);
  }

  /** The metric over all samples at once, and combined from three uneven batches in two orders; all must agree. */
  private static <P extends Serializable> Map<String, Double> inBatches(Metric<P> metric, String name,
      float[] original, float[] packaged, long[] shape, Labels labels) {
    int n = (int) shape[0];
    int per = original.length / n;
    Map<String, Double> whole = metric.finish(metric.partial(batch(name, original, packaged, shape, labels)));
    int[] cuts = {0, n / 5, n / 2 + 1, n};
    List<P> parts = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      long[] s = shape.clone();
      s[0] = cuts[i + 1] - cuts[i];
      parts.add(metric.partial(batch(name, Arrays.copyOfRange(original, cuts[i] * per, cuts[i + 1] * per),
          Arrays.copyOfRange(packaged, cuts[i] * per, cuts[i + 1] * per), s, labels.slice(cuts[i], cuts[i + 1]))));
    }
    P left = metric.combine(metric.combine(parts.get(0), parts.get(1)), parts.get(2));
    P right = metric.combine(parts.get(2), metric.combine(parts.get(1), parts.get(0)));
    assertEquals(whole, metric.finish(left));
    assertEquals(whole, metric.finish(right));
    return whole;
  }

  @Test
  void rocAucEqualsTheBruteForcePairCountWithTiesAsHalf() {
    Random random = new Random(7);
    int n = 301;
    float[] original = new float[n];
    float[] packaged = new float[n];
    long[] labels = new long[n];
    for (int i = 0; i < n; i++) {
      labels[i] = random.nextInt(3) == 0 ? 1 : 0;
      original[i] = Math.round((random.nextGaussian() + labels[i]) * 4) / 4f; // coarse: many ties
      packaged[i] = Math.round((random.nextGaussian() + labels[i]) * 2) / 2f;
    }
    Map<String, Double> values = inBatches(new BinaryMetric("score", 0.5), "score", original, packaged,
        new long[] {n, 1}, Labels.ofClasses(labels));
    assertEquals(pairAuc(packaged, labels), values.get("roc_auc"), 1e-12);
    assertEquals(pairAuc(original, labels), values.get("baseline_roc_auc"), 1e-12);
    long correct = IntStream.range(0, n).filter(i -> (packaged[i] >= 0.5) == (labels[i] == 1)).count();
    long agree = IntStream.range(0, n).filter(i -> (packaged[i] >= 0.5) == (original[i] >= 0.5)).count();
    assertEquals((double) correct / n, values.get("accuracy_at_threshold"));
    assertEquals((double) agree / n, values.get("decision_agreement"));
  }

  static double pairAuc(float[] scores, long[] labels) {
    double wins = 0;
    long pairs = 0;
    for (int i = 0; i < scores.length; i++) {
      for (int j = 0; j < scores.length; j++) {
        if (labels[i] == 1 && labels[j] == 0) {
          pairs++;
          wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
        }
      }
    }
    return wins / pairs;
  }

  @Test
  void aucIsNullWithOneClassAndLabelsMustBeZeroOrOne() {
    BinaryMetric metric = new BinaryMetric("p", 0.5);
    float[] s = {0.1f, 0.9f};
    assertNull(metric.finish(metric.partial(batch("p", s, s, new long[] {2}, Labels.ofClasses(new long[] {1, 1}))))
        .get("roc_auc"));
    MetricException e = assertThrows(MetricException.class, () -> metric.partial(
        batch("p", s, s, new long[] {2}, Labels.ofClasses(new long[] {0, 2}))));
    assertTrue(e.getMessage().contains("'p'") && e.getMessage().contains("0 or 1"), e.getMessage());
  }

  @Test
  void topFiveEqualsTheLabelsPlaceInAFullSort() {
    Random random = new Random(11);
    int n = 200;
    int classes = 12;
    float[] original = new float[n * classes];
    float[] packaged = new float[n * classes];
    long[] labels = new long[n];
    for (int i = 0; i < original.length; i++) {
      original[i] = random.nextInt(6);   // heavy ties
      packaged[i] = random.nextInt(6);
    }
    for (int s = 0; s < n; s++) {
      labels[s] = random.nextInt(classes);
    }
    Map<String, Double> values = inBatches(new ClassificationMetric("logits", -1), "logits", original, packaged,
        new long[] {n, classes}, Labels.ofClasses(labels));
    assertEquals(sortedTopK(packaged, labels, classes, 5), values.get("top5_accuracy"));
    assertEquals(sortedTopK(packaged, labels, classes, 1), values.get("top1_accuracy"));
    assertEquals(sortedTopK(original, labels, classes, 5), values.get("baseline_top5_accuracy"));
    assertEquals(sortedTopK(original, labels, classes, 1), values.get("baseline_top1_accuracy"));
  }

  /** The share of samples whose label is among the first k of a stable sort by descending score. */
  static double sortedTopK(float[] scores, long[] labels, int classes, int k) {
    int hits = 0;
    for (int s = 0; s < labels.length; s++) {
      final int base = s * classes;
      List<Integer> order = new ArrayList<>(IntStream.range(0, classes).boxed().toList());
      order.sort(Comparator.comparingDouble((Integer c) -> -scores[base + c]));
      hits += order.subList(0, k).contains((int) labels[s]) ? 1 : 0;
    }
    return (double) hits / labels.length;
  }

  @Test
  void classificationChecksThatTheMetricCanMeanSomething() {
    ClassificationMetric metric = new ClassificationMetric("prob", -1);
    float[] one = {0.2f, 0.7f};
    MetricException single = assertThrows(MetricException.class, () -> metric.partial(
        batch("prob", one, one, new long[] {2, 1}, Labels.ofClasses(new long[] {0, 1}))));
    assertTrue(single.getMessage().contains("'prob'") && single.getMessage().contains("task binary"),
        single.getMessage());
    float[] three = new float[6];
    MetricException range = assertThrows(MetricException.class, () -> metric.partial(
        batch("prob", three, three, new long[] {2, 3}, Labels.ofClasses(new long[] {1, 3}))));
    assertTrue(range.getMessage().contains("class 3") && range.getMessage().contains("'prob' has 3 classes")
        && range.getMessage().contains("0-based"), range.getMessage());
    MetricException agreement = assertThrows(MetricException.class, () -> new AgreementMetric("prob", -1).partial(
        batch("prob", one, one, new long[] {2, 1}, null)));
    assertTrue(agreement.getMessage().contains("would be 1.0") && agreement.getMessage().contains("'prob'"));
    assertNull(metric.finish(metric.partial(batch("prob", three, three, new long[] {2, 3},
        Labels.ofClasses(new long[] {0, 2})))).get("top5_accuracy"), "top-5 of 3 classes means nothing");
  }

  @Test
  void ctcCharacterErrorRateEqualsAPlainEditDistanceOfAnIndependentDecode() {
    Random random = new Random(5);
    int n = 60;
    int steps = 20;
    int classes = 5;
    float[] original = new float[n * steps * classes];
    float[] packaged = new float[n * steps * classes];
    for (int i = 0; i < original.length; i++) {
      original[i] = (float) random.nextGaussian();
      packaged[i] = random.nextInt(4) == 0 ? (float) random.nextGaussian() : original[i];
    }
    List<String> texts = new ArrayList<>();
    List<String> vocabulary = List.of("_", "a", "b", "c", "d");
    for (int s = 0; s < n; s++) {
      StringBuilder line = new StringBuilder();
      for (int k = random.nextInt(7); k > 0; k--) {
        line.append("abcd".charAt(random.nextInt(4)));
      }
      texts.add(line.toString());
    }
    CtcMetric metric = new CtcMetric("logits", 1, 2, 0, vocabulary);
    Map<String, Double> values = inBatches(metric, "logits", original, packaged, new long[] {n, steps, classes},
        Labels.ofTexts(texts));
    long edits = 0;
    long chars = 0;
    long exact = 0;
    long agree = 0;
    for (int s = 0; s < n; s++) {
      String mine = naiveDecode(packaged, s, steps, classes, vocabulary);
      String theirs = naiveDecode(original, s, steps, classes, vocabulary);
      edits += matrixEditDistance(mine, texts.get(s));
      chars += texts.get(s).length();
      exact += mine.equals(texts.get(s)) ? 1 : 0;
      agree += mine.equals(theirs) ? 1 : 0;
    }
    assertEquals((double) edits / chars, values.get("cer"));
    assertEquals((double) exact / n, values.get("sequence_accuracy"));
    assertEquals((double) agree / n, values.get("sequence_agreement"));

    // The same logits laid out [N, C, T] decode the same.
    float[] transposed = new float[packaged.length];
    float[] transposedOriginal = new float[original.length];
    for (int s = 0; s < n; s++) {
      for (int t = 0; t < steps; t++) {
        for (int c = 0; c < classes; c++) {
          transposed[(s * classes + c) * steps + t] = packaged[(s * steps + t) * classes + c];
          transposedOriginal[(s * classes + c) * steps + t] = original[(s * steps + t) * classes + c];
        }
      }
    }
    assertEquals(values, new CtcMetric("logits", 2, 1, 0, vocabulary).finish(new CtcMetric("logits", 2, 1, 0,
        vocabulary).partial(batch("logits", transposedOriginal, transposed, new long[] {n, classes, steps},
        Labels.ofTexts(texts)))));
  }

  private static String naiveDecode(float[] v, int s, int steps, int classes, List<String> vocabulary) {
    StringBuilder collapsed = new StringBuilder();
    int previous = -1;
    for (int t = 0; t < steps; t++) {
      int best = 0;
      for (int c = 0; c < classes; c++) {
        if (v[(s * steps + t) * classes + c] > v[(s * steps + t) * classes + best]) {
          best = c;
        }
      }
      if (best != previous && best != 0) {
        collapsed.append(vocabulary.get(best));
      }
      previous = best;
    }
    return collapsed.toString();
  }

  static int matrixEditDistance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      for (int j = 0; j <= b.length(); j++) {
        d[i][j] = i == 0 ? j : j == 0 ? i : Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1),
            d[i - 1][j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
      }
    }
    return d[a.length()][b.length()];
  }

  @Test
  void ctcRejectsAVocabularyOfTheWrongSizeAndTextWithoutVocabulary() {
    float[] v = new float[2 * 3 * 4];
    long[] shape = {2, 3, 4};
    MetricException size = assertThrows(MetricException.class, () -> new CtcMetric("y", 1, 2, 0, List.of("_", "a"))
        .partial(batch("y", v, v, shape, Labels.ofTexts(List.of("a", "")))));
    assertTrue(size.getMessage().contains("4 classes"), size.getMessage());
    MetricException text = assertThrows(MetricException.class, () -> new CtcMetric("y", 1, 2, 0, null)
        .partial(batch("y", v, v, shape, Labels.ofTexts(List.of("a", "")))));
    assertTrue(text.getMessage().contains("vocabulary"), text.getMessage());
  }

  @Test
  void regressionErrorsEqualADirectComputationAndDoNotDependOnBatching() {
    Random random = new Random(3);
    int n = 50;
    int width = 3;
    float[] targets = new float[n * width];
    float[] original = new float[n * width];
    float[] packaged = new float[n * width];
    for (int i = 0; i < targets.length; i++) {
      targets[i] = (float) random.nextGaussian();
      original[i] = targets[i] + (float) random.nextGaussian() * 0.1f;
      packaged[i] = original[i] + (float) random.nextGaussian() * 0.01f;
    }
    Map<String, Double> values = inBatches(new RegressionMetric("y"), "y", original, packaged,
        new long[] {n, width}, Labels.ofTargets(targets, width));
    double mse = 0;
    double mae = 0;
    double toOriginal = 0;
    for (int i = 0; i < targets.length; i++) {
      mse += Math.pow(packaged[i] - (double) targets[i], 2);
      mae += Math.abs(packaged[i] - (double) targets[i]);
      toOriginal += Math.pow(packaged[i] - (double) original[i], 2);
    }
    assertEquals(mse / targets.length, values.get("mse"), 1e-15);
    assertEquals(mae / targets.length, values.get("mae"), 1e-15);
    assertEquals(toOriginal / targets.length, values.get("mse_to_original"), 1e-18);
  }

  @Test
  void aUserMetricLoadsByClassNameWithItsOptions() {
    Metric<?> metric = Metrics.fromFields(Map.of("task", "user", "class", LargestChangeMetric.class.getName(),
        "options", Map.of("output", "y")), java.nio.file.Path.of("."));
    Map<String, Double> values = finishOne(metric, batch("y", new float[] {1, 2, 3, 4}, new float[] {1, 2.5f, 3, 3},
        new long[] {2, 2}, null));
    assertEquals(Map.of("largest_change", 1.0, "changed_samples", 2.0), values);
    ConfigException missing = assertThrows(ConfigException.class, () -> Metrics.fromFields(
        Map.of("task", "user", "class", "com.example.Missing"), java.nio.file.Path.of(".")));
    assertTrue(missing.getMessage().contains("not on the classpath"), missing.getMessage());
    ConfigException noOutput = assertThrows(ConfigException.class, () -> Metrics.fromFields(
        Map.of("task", "binary"), java.nio.file.Path.of(".")));
    assertTrue(noOutput.getMessage().startsWith("output:"), noOutput.getMessage());
  }

  @SuppressWarnings("unchecked")
  private static <P extends Serializable> Map<String, Double> finishOne(Metric<P> metric, MetricBatch batch) {
    return metric.finish(metric.partial(batch));
  }
}
