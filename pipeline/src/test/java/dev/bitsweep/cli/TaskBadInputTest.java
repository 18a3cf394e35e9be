package dev.bitsweep.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Activation configs and task metrics that cannot work end with exit code 2 before any job runs, with a message
 * naming the file, line or output and the fix, and publish nothing.
 */
class TaskBadInputTest {
  @TempDir Path dir;

  private static final Path ROOT = Fixtures.repositoryRoot().resolve("calibration-data");
  private static final String INT8 = "  - {method: linear_quantize, mode: linear_symmetric, dtype: int8, "
      + "granularity: per_channel}\n";

  private String run(String specText, String... fragments) throws IOException {
    Path spec = dir.resolve("spec.yaml");
    Files.writeString(spec, specText + "out: " + dir.resolve("out") + "\n");
    CliRun.Outcome outcome = CliRun.bitsweep("sweep", spec.toString(), "--runner", "direct");
    String message = outcome.err();
    assertEquals(ExitCodes.BAD_INPUT, outcome.exitCode(), message + outcome.out());
    for (String fragment : fragments) {
      assertTrue(message.contains(fragment), "expected '" + fragment + "' in: " + message);
    }
    assertFalse(Files.exists(dir.resolve("out").resolve("runs")), "no results may be published");
    return message;
  }

  private static String digits(String task, boolean calibration) {
    Path d = ROOT.resolve("digits");
    return "name: bad\nmodel: " + d.resolve("model.onnx") + "\n" + task + "eval_data: " + d.resolve("eval") + "\n"
        + (calibration ? "calibration_data: " + d.resolve("calibration") + "\n" : "");
  }

  @Test
  void activationsWithoutCalibrationData() throws IOException {
    run(digits("task: classification\n", false) + "configs:\n  - activations: {calibration: minmax}\n",
        "config 'activations-int8-minmax' quantizes activations", "add 'calibration_data: <directory>'");
  }

  @Test
  void badActivationFieldsNameTheLine() throws IOException {
    String head = digits("task: classification\n", true) + "configs:\n";
    run(head + "  - activations: {calibration: kl}\n", "spec.yaml:7", "activations.calibration",
        "unknown value 'kl'", "minmax, percentile, entropy");
    run(head + "  - activations: {calibration: minmax, percentile: 99.9}\n", "activations.percentile",
        "applies only to calibration percentile");
    run(head + "  - activations: {calibration: percentile, percentile: 40}\n", "must be in (50, 100]");
    run(head + "  - activations: {dtipe: int8}\n", "activations.dtipe", "did you mean 'dtype'");
  }

  @Test
  void activationsBelowOpset10() throws IOException {
    Path model = Fixtures.structuralModel("matmul_in_out_opset7.onnx");
    run("name: bad\nmodel: " + model + "\neval_data: " + ROOT.resolve("digits/eval") + "\n"
        + "calibration_data: " + ROOT.resolve("digits/calibration") + "\nconfigs:\n"
        + "  - activations: {}\n", "needs QuantizeLinear/DequantizeLinear, which exist from opset 10",
        "imports opset 7", "re-export the model");
  }

  @Test
  void classificationOnASingleColumnOutput() throws IOException {
    Path d = ROOT.resolve("breast-cancer");
    run("name: bad\nmodel: " + d.resolve("model.onnx") + "\ntask: {name: classification, output: probability}\n"
        + "eval_data: " + d.resolve("eval") + "\nweight_threshold: 0\nconfigs:\n" + INT8,
        "task classification cannot mean anything", "output 'probability' with a single column", "use task binary");
  }

  @Test
  void agreementOnAOneElementOutput() throws IOException {
    Path d = ROOT.resolve("breast-cancer");
    run("name: bad\nmodel: " + d.resolve("model.onnx") + "\ntask: agreement\n"
        + "eval_data: " + d.resolve("eval") + "\nweight_threshold: 0\nconfigs:\n" + INT8,
        "task agreement cannot mean anything", "agreement would be 1.0");
  }

  @Test
  void labelsOutOfTheOutputsRange() throws IOException {
    Path eval = dir.resolve("eval");
    Files.createDirectories(eval);
    Files.copy(ROOT.resolve("digits/eval/input.npy"), eval.resolve("input.npy"));
    // int64 labels 1..10 (1-based): 10 is not a class of the 10-class output
    byte[] labels = Files.readAllBytes(ROOT.resolve("digits/eval/labels.npy"));
    int header = labels.length - 540 * 8;
    java.nio.ByteBuffer data = java.nio.ByteBuffer.wrap(labels, header, 540 * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 540; i++) {
      data.putLong(header + i * 8, data.getLong(header + i * 8) + 1);
    }
    Files.write(eval.resolve("labels.npy"), labels);
    run("name: bad\nmodel: " + ROOT.resolve("digits/model.onnx") + "\ntask: classification\neval_data: " + eval
        + "\nconfigs:\n" + INT8, "has label 10 at sample 4", "'logits' has 10 classes");
    // with the output named, the task's own check reads the shape the model really gives
    run("name: bad\nmodel: " + ROOT.resolve("digits/model.onnx") + "\ntask: {name: classification, output: logits}\n"
        + "eval_data: " + eval + "\nconfigs:\n" + INT8, "task classification cannot mean anything",
        "labels hold class 10 but output 'logits' has 10 classes", "shift 1-based labels");
  }

  @Test
  void unknownTaskFieldsAndOutputs() throws IOException {
    run(digits("task: {name: ctc, output: logits, blank: x}\n", false) + "configs:\n" + INT8, "spec.yaml:3",
        "blank", "expected an integer");
    run(digits("task: {name: classification, output: probs}\n", false) + "configs:\n" + INT8,
        "task output 'probs' is not an output", "[logits]");
    run(digits("task: {name: user, metric_class: com.example.Missing}\n", false) + "configs:\n" + INT8,
        "metric_class", "com.example.Missing is not on the classpath");
  }
}
