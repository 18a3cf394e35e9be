package dev.bitsweep.cli;

import static dev.bitsweep.cli.CliRun.INT8;
import static dev.bitsweep.cli.CliRun.bitsweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input ends with exit code 2, one message naming the file/field, and no results directory. */
class BadInputTest {
  @TempDir Path dir;


  private Path spec(String model, String evalData, String configs) throws IOException {
    Path spec = dir.resolve("spec.yaml");
    Files.writeString(spec, "name: bad\nmodel: " + model + "\ntask: classification\neval_data: " + evalData
        + "\nout: " + dir.resolve("out") + "\n" + configs);
    return spec;
  }

  private CliRun.Outcome expectBadInput(Path spec, String... fragments) {
    CliRun.Outcome outcome = bitsweep("sweep", spec.toString());
    assertEquals(ExitCodes.BAD_INPUT, outcome.exitCode(), outcome.err() + outcome.out());
    for (String fragment : fragments) {
      assertTrue(outcome.err().contains(fragment), "expected '" + fragment + "' in: " + outcome.err());
    }
    assertTrue(outcome.err().startsWith("bitsweep: error: "), outcome.err());
    assertFalse(Files.exists(dir.resolve("out").resolve("runs")), "no results may be published");
    return outcome;
  }

  private String digits(String file) {
    return Fixtures.digits().resolve(file).toString();
  }

  @Test
  void missingModel() throws IOException {
    Path missing = dir.resolve("missing.onnx");
    expectBadInput(spec(missing.toString(), digits("eval"), INT8), "model file not found: " + missing);
  }

  @Test
  void nonOnnxAndTruncatedModels() throws IOException {
    for (String name : new String[] {"not_onnx.onnx", "truncated.onnx"}) {
      Path model = Fixtures.structuralModel(name);
      expectBadInput(spec(model.toString(), digits("eval"), INT8), "model file " + model, "is not a valid ONNX model");
    }
  }

  @Test
  void modelWithoutCompressibleLayers() throws IOException {
    Path model = Fixtures.structuralModel("no_layers_opset13.onnx");
    expectBadInput(spec(model.toString(), digits("eval"), INT8), "has no compressible layers",
        "below weight_threshold");
  }

  @Test
  void dataThatDoesNotFitTheModel() throws IOException {
    Path data = Fixtures.resource("data/bad-shape/eval");
    expectBadInput(spec(digits("model.onnx"), data.toString(), INT8), data.resolve("input.npy").toString(),
        "model input 'input' expects [?,1,8,8]");
  }

  @Test
  void calibrationDataOfTheWrongShapeNamesTheFileAndTheInput() throws IOException {
    Path data = Fixtures.resource("data/bad-shape/eval");
    String configs = "calibration_data: " + data + "\nconfigs:\n  - method: gptq\n    nbits: 4\n";
    expectBadInput(spec(digits("model.onnx"), digits("eval"), configs), data.resolve("input.npy").toString(),
        "model input 'input' expects [?,1,8,8]");
  }

  @Test
  void calibrationMethodsWithoutCalibrationDataSayWhatToAdd() throws IOException {
    String configs = "configs:\n  - method: sparsegpt\n    target_sparsity: 0.5\n";
    expectBadInput(spec(digits("model.onnx"), digits("eval"), configs), "config 'sparsegpt-s50' uses sparsegpt",
        "add 'calibration_data: <directory>'");
    String sensitive = "configs:\n  - method: palettize\n    nbits: 4\n    sensitivity: hessian\n";
    expectBadInput(spec(digits("model.onnx"), digits("eval"), sensitive), "palettize (sensitivity: hessian)",
        "calibration_data");
  }

  @Test
  void moreCalibrationSamplesThanTheDataHolds() throws IOException {
    String configs = "calibration_data: " + digits("calibration") + "\ncalibration_samples: 300\n" + INT8;
    expectBadInput(spec(digits("model.onnx"), digits("eval"), configs), "calibration_samples is 300",
        "holds only 256 samples");
  }

  @Test
  void invalidConfigValueNamesTheLineAndField() throws IOException {
    String configs = "configs:\n  - method: palettize\n    mode: kmeans\n    nbits: 5\n    granularity: per_tensor\n";
    expectBadInput(spec(digits("model.onnx"), digits("eval"), configs), "spec.yaml:9:", "nbits");
  }

  @Test
  void misspelledKeysGetASuggestion() throws IOException {
    String configs = "configs:\n  - method: palettize\n    mode: kmeans\n    nbit: 4\n";
    expectBadInput(spec(digits("model.onnx"), digits("eval"), configs), "spec.yaml:9:", "nbit", "did you mean 'nbits'");
    Path spec = dir.resolve("typo.yaml");
    Files.writeString(spec, "modle: x.onnx\n");
    expectBadInput(spec, "typo.yaml:1:", "unknown key 'modle'; did you mean 'model'?");
  }

  @Test
  void configThatCannotApplyToALayerNamesBoth() throws IOException {
    String configs = "configs:\n  - method: palettize\n    mode: kmeans\n    nbits: 4\n"
        + "    granularity: per_grouped_channel\n    group_size: 48\n";
    expectBadInput(spec(digits("model.onnx"), digits("eval"), configs), "cannot compress layer", "group_size");
  }

  @Test
  void missingSpecAndUnknownRunner() throws IOException {
    CliRun.Outcome missing = bitsweep("sweep", dir.resolve("nope.yaml").toString());
    assertEquals(ExitCodes.BAD_INPUT, missing.exitCode());
    assertTrue(missing.err().contains("sweep spec not found: " + dir.resolve("nope.yaml")), missing.err());
    CliRun.Outcome runner = bitsweep("sweep", spec(digits("model.onnx"), digits("eval"), INT8).toString(), "--runner", "spark");
    assertEquals(ExitCodes.BAD_INPUT, runner.exitCode());
    assertTrue(runner.err().contains("--runner must be flink or direct, got 'spark'"), runner.err());
  }

  @Test
  void impossibleParallelismAndThreadBudgetAreBadInput() throws IOException {
    String spec = spec(digits("model.onnx"), digits("eval"), INT8).toString();
    CliRun.Outcome parallelism = bitsweep("sweep", spec, "--parallelism", "0");
    assertEquals(ExitCodes.BAD_INPUT, parallelism.exitCode());
    assertTrue(parallelism.err().contains("--parallelism must be >= 1, got 0"), parallelism.err());
    CliRun.Outcome threads = bitsweep("sweep", spec, "--threads-per-task", "-1");
    assertEquals(ExitCodes.BAD_INPUT, threads.exitCode());
    assertTrue(threads.err().contains("--threads-per-task must be >= 1 (or 0 for one share of a worker's cores), got -1"),
        threads.err());
  }

  @Test
  void benchConcurrencyBelowTwoIsBadInput() {
    CliRun.Outcome outcome = bitsweep("bench", "--concurrency", "1");
    assertEquals(ExitCodes.BAD_INPUT, outcome.exitCode());
    assertTrue(outcome.err().contains("--concurrency must be >= 2, got 1"), outcome.err());
  }

  @Test
  void anUnreachableClusterIsNamedAndNothingIsSubmitted() throws IOException {
    Path out = dir.resolve("unreachable-out");
    CliRun.Outcome outcome = bitsweep("sweep", spec(digits("model.onnx"), digits("eval"), INT8).toString(), "--out",
        out.toString(), "--flink-master", "127.0.0.1:1");
    assertEquals(ExitCodes.FAILED, outcome.exitCode());
    assertTrue(outcome.err().contains("cannot reach the Flink cluster at 127.0.0.1:1"), outcome.err());
    assertTrue(outcome.err().contains("Nothing was submitted"), outcome.err());
    assertFalse(Files.exists(out.resolve("runs")), "no runs/ table");
  }

  @Test
  void helpExplainsEveryOption() {
    CliRun.Outcome help = bitsweep("sweep", "--help");
    assertEquals(0, help.exitCode());
    for (String option : new String[] {"--out", "--runner", "--flink-master", "--parallelism", "--threads-per-task",
        "SPEC"}) {
      assertTrue(help.out().contains(option), option + " missing from: " + help.out());
    }
  }
}
