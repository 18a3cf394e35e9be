package dev.bitsweep.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bitsweep.TestModels;
import dev.bitsweep.activations.ActivationHistogram;
import dev.bitsweep.activations.ActivationQuantConfig;
import dev.bitsweep.activations.ActivationQuantizer;
import dev.bitsweep.activations.QdqPlan;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.ModelRunner.Output;
import dev.bitsweep.onnx.OnnxModel;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ctc and binary tasks on their real fixtures (tools/fixtures/train_digit_lines_ctc.py and
 * train_breast_cancer.py): ONNX Runtime runs the model, the metrics must reproduce what the fixture script computed
 * from an independent NumPy run of the exported graph (recorded in manifest.yaml) to 1e-6.
 */
class TaskFixturesTest {
  @TempDir Path dir;

  private static Path set(String name) {
    return TestModels.repositoryRoot().resolve("calibration-data").resolve(name);
  }

  static double expected(Path root, String key) throws IOException {
    Matcher m = Pattern.compile("(?m)^\\s*" + key + ": ([-0-9.eE]+)$").matcher(Files.readString(root.resolve("manifest.yaml")));
    if (!m.find()) {
      throw new IllegalStateException(key + " not in " + root.resolve("manifest.yaml"));
    }
    return Double.parseDouble(m.group(1));
  }

  private static <P extends Serializable> Map<String, Double> evaluate(Metric<P> metric, Path original, Path packaged,
      Dataset eval, Labels labels, String output, SessionSettings settings) {
    List<ModelInput> inputs = ModelInput.of(OnnxModel.read(original).proto());
    P sum = null;
    try (ModelRunner a = ModelRunner.open(original, inputs, Set.of(output), SessionSettings.QDQ_DISABLED, 1);
         ModelRunner b = ModelRunner.open(packaged, inputs, Set.of(output), settings, 1)) {
      for (int from = 0; from < eval.samples(); from += 64) {
        int to = Math.min(eval.samples(), from + 64);
        Map<String, Output> x = a.runAll(eval, from, to);
        Map<String, Output> y = b.runAll(eval, from, to);
        P part = metric.partial(new MetricBatch(x, y, labels.slice(from, to)));
        sum = sum == null ? part : metric.combine(sum, part);
      }
    }
    return metric.finish(sum);
  }

  @Test
  void ctcOnDigitLinesReproducesTheFixtureScriptsAccuracyAndCer() throws IOException {
    Path root = set("digit-lines");
    Path model = root.resolve("model.onnx");
    Dataset eval = Dataset.open(root.resolve("eval"), ModelInput.of(OnnxModel.read(model).proto()), false);
    Metric<?> text = Metrics.fromFields(Map.of("task", "ctc", "output", "logits", "time_axis", 2, "class_axis", 1,
        "blank", 0, "vocabulary", "vocab.txt"), root);
    Map<String, Double> fromText = evaluate(text, model, model, eval,
        Labels.readSequences(root.resolve("eval/labels.txt")), "logits", SessionSettings.QDQ_DISABLED);
    Metric<?> tokens = Metrics.fromFields(Map.of("task", "ctc", "output", "logits", "time_axis", 2, "class_axis", 1),
        root);
    Map<String, Double> fromTokens = evaluate(tokens, model, model, eval,
        Labels.readSequences(root.resolve("eval/label_tokens.npy")), "logits", SessionSettings.QDQ_DISABLED);
    assertEquals(expected(root, "expected_exact_accuracy"), fromText.get("sequence_accuracy"), 1e-6);
    assertEquals(expected(root, "expected_cer"), fromText.get("cer"), 1e-6);
    assertEquals(fromText, fromTokens, "one symbol per token: text and token labels give the same numbers");
    assertEquals(1.0, fromText.get("sequence_agreement"));
    System.out.println("digit-lines fp32: " + fromText);
    w8a8(root, model, eval, text, Labels.readSequences(root.resolve("eval/labels.txt")), "logits");
  }

  @Test
  void binaryOnBreastCancerReproducesTheFixtureScriptsAucAndAccuracy() throws IOException {
    Path root = set("breast-cancer");
    Path model = root.resolve("model.onnx");
    Dataset eval = Dataset.open(root.resolve("eval"), ModelInput.of(OnnxModel.read(model).proto()), true);
    Metric<?> metric = Metrics.fromFields(Map.of("task", "binary", "output", "probability", "threshold", 0.5), root);
    Labels labels = Labels.readClasses(root.resolve("eval/labels.npy"));
    Map<String, Double> values = evaluate(metric, model, model, eval, labels, "probability",
        SessionSettings.QDQ_DISABLED);
    assertEquals(expected(root, "expected_roc_auc"), values.get("roc_auc"), 1e-6);
    assertEquals(expected(root, "expected_accuracy"), values.get("accuracy_at_threshold"), 1e-6);
    System.out.println("breast-cancer fp32: " + values);
    w8a8(root, model, eval, metric, labels, "probability");
  }

  /** Activation-only QDQ (int8, each calibrator) on the fixture, under both session settings: printed for the README. */
  private void w8a8(Path root, Path model, Dataset eval, Metric<?> metric, Labels labels, String output) {
    OnnxModel fp32 = OnnxModel.read(model);
    Dataset calibration = Dataset.open(root.resolve("calibration"), ModelInput.of(fp32.proto()), false);
    QdqPlan plan = QdqPlan.of(fp32.proto());
    Map<String, ActivationHistogram> histograms = ActivationQuantizer.calibrate(fp32, plan, calibration,
        calibration.samples(), 64);
    for (String calibrator : List.of("minmax", "percentile", "entropy")) {
      Path file = dir.resolve(root.getFileName() + "-" + calibrator + ".onnx");
      try {
        Files.write(file, ActivationQuantizer.quantize(fp32.proto(), histograms,
            ActivationQuantConfig.fromFields(Map.of("calibration", calibrator))).toByteArray());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      for (SessionSettings settings : SessionSettings.values()) {
        System.out.println(root.getFileName() + " A8 " + calibrator + " " + settings + ": "
            + evaluate(metric, model, file, eval, labels, output, settings));
      }
    }
  }
}
