package dev.bitsweep.pipeline;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.DataException;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.ModelRunner.Output;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.eval.metrics.Labels;
import dev.bitsweep.eval.metrics.LanguageModelMetric;
import dev.bitsweep.eval.metrics.Metric;
import dev.bitsweep.eval.metrics.MetricBatch;
import dev.bitsweep.eval.metrics.MetricException;
import dev.bitsweep.eval.metrics.Metrics;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import dev.bitsweep.spec.SpecException;
import dev.bitsweep.spec.SweepConfig;
import dev.bitsweep.spec.SweepSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Plans the evaluation before any job runs and refuses metrics that cannot mean anything for the model: it builds
 * the task's metric on the named output (the model's first by default), reads the labels, and runs the original
 * model on the first evaluation batch through the metric (a single-column classification, a one-element agreement,
 * a CTC output of the wrong rank fail there), then checks every label against the output's classes.
 */
final class EvaluationCheck {
  private EvaluationCheck() {}

  /** @param sweep the planned sweep: its inputs as laid out, its evaluated samples and first evaluation batch */
  static Evaluation plan(SweepSpec spec, OnnxModel model, Dataset eval, SweepPlan sweep) {
    int samples = sweep.evalSamples();
    List<String> outputs = model.proto().getGraph().getOutputList().stream().map(Onnx.ValueInfoProto::getName)
        .toList();
    Map<String, Object> lmFields = spec.task() == SweepSpec.Task.LANGUAGE_MODEL
        ? LanguageModelTask.resolve(spec, model.proto()) : null;
    String output = lmFields != null ? (String) lmFields.get("output")
        : spec.output() == null ? outputs.get(0) : spec.output();
    if (!outputs.contains(output)) {
      throw new SpecException(spec.specFile() + ": task output '" + output + "' is not an output of " + spec.model()
          + "; its outputs are " + outputs);
    }
    Set<String> fused = spec.configs().stream().filter(SweepConfig::quantizesActivations)
        .map(SweepConfig::configId).collect(Collectors.toUnmodifiableSet());
    if (spec.task() == SweepSpec.Task.EMBEDDING) {
      return new Evaluation(spec.task(), null, output, null, fused);
    }
    Map<String, Object> fields = new LinkedHashMap<>(lmFields != null ? lmFields : spec.taskFields());
    if (spec.task() != SweepSpec.Task.USER) {
      fields.put("output", output);
    }
    Metric<?> metric = Metrics.fromFields(fields, spec.specFile().getParent());
    Path labelsFile = labelsFile(spec);
    Labels labels = null;
    if (labelsFile != null) {
      try {
        labels = Evaluation.readLabels(spec.task(), labelsFile);
      } catch (DataException e) {
        throw new SpecException(spec.specFile() + ": task " + spec.task().label() + ": " + e.getMessage());
      }
      if (labels.samples() < samples) {
        throw new SpecException(spec.specFile() + ": labels " + labelsFile + " hold " + labels.samples()
            + " samples but the evaluation uses " + samples + " of " + spec.evalData() + "; give one label per sample");
      }
    }
    check(spec, model, eval, sweep, metric, output, labels);
    return new Evaluation(spec.task(), metric, output, labelsFile == null ? null : labelsFile.toString(), fused);
  }

  /** The spec's {@code labels}, else the task's default file in the eval data; required for labelled tasks. */
  private static Path labelsFile(SweepSpec spec) {
    if (spec.labels() != null) {
      if (!Files.isRegularFile(spec.labels())) {
        throw new SpecException(spec.specFile() + ": task labels file " + spec.labels() + " does not exist");
      }
      return spec.labels();
    }
    List<String> defaults = spec.task() == SweepSpec.Task.CTC ? List.of("labels.txt", "label_tokens.npy")
        : List.of("labels.npy");
    for (String name : defaults) {
      Path file = spec.evalData().resolve(name);
      if (Files.isRegularFile(file)) {
        return file;
      }
    }
    if (spec.task() == SweepSpec.Task.AGREEMENT || spec.task() == SweepSpec.Task.USER
        || spec.task() == SweepSpec.Task.LANGUAGE_MODEL) {
      return null;
    }
    throw new SpecException(spec.specFile() + ": task " + spec.task().label() + " needs labels, but " + spec.evalData()
        + " has no " + String.join(" or ", defaults) + "; add it, or name the file with 'task: {name: "
        + spec.task().label() + ", labels: <file>}'");
  }

  private static void check(SweepSpec spec, OnnxModel model, Dataset eval, SweepPlan sweep, Metric<?> metric,
      String output, Labels labels) {
    int samples = sweep.evalSamples();
    int to = sweep.batchEnd(0);
    Map<String, Output> first;
    try (ModelRunner runner = ModelRunner.open(model.path(), sweep.modelInputs(), Set.of(output),
        SessionSettings.QDQ_DISABLED, 1)) {
      first = runner.runAll(eval, 0, to);
    }
    try {
      metric.partial(new MetricBatch(first, first, labels == null ? null : labels.slice(0, to),
          batchInputs(sweep.modelInputs(), eval, 0, to)));
      if (labels != null) {
        checkAllLabels(spec, metric, first.get(output), labels, samples);
      }
      if (metric instanceof LanguageModelMetric lm) {
        long[] shape = first.get(output).shape();
        LanguageModelTask.checkTokens(spec, eval, samples, lm.input(), output, shape[shape.length - 1]);
      }
    } catch (MetricException e) {
      throw new SpecException(spec.specFile() + ": task " + spec.task().label() + " cannot mean anything for "
          + spec.model() + ": " + e.getMessage());
    }
  }

  /** Samples [from, to) of every model input, as the metrics see them ({@link MetricBatch#inputs}). */
  static Map<String, MetricBatch.Input> batchInputs(List<ModelInput> inputs, Dataset data, int from, int to) {
    Map<String, MetricBatch.Input> batch = new LinkedHashMap<>();
    for (ModelInput input : inputs) {
      NpyArray values = data.inputs().get(input.name());
      if (values != null) {
        batch.put(input.name(), new MetricBatch.Input(values, from, to));
      }
    }
    return batch;
  }

  /** The first batch checked its own labels; the rest are checked against the first batch's output shape. */
  private static void checkAllLabels(SweepSpec spec, Metric<?> metric, Output output, Labels labels, int samples) {
    List<String> problems = new ArrayList<>();
    if (spec.task() == SweepSpec.Task.CLASSIFICATION && labels.classes() != null) {
      int axis = (int) Math.floorMod(((Number) spec.taskFields().getOrDefault("class_axis", -1)).intValue(),
          output.shape().length);
      long classes = output.shape()[axis];
      for (int s = 0; s < samples && problems.isEmpty(); s++) {
        long label = labels.classes()[s];
        if (label < 0 || label >= classes) {
          problems.add("label " + label + " of sample " + s + " is outside the output's " + classes + " classes (0.."
              + (classes - 1) + ")");
        }
      }
    }
    if (spec.task() == SweepSpec.Task.BINARY && labels.classes() != null) {
      for (int s = 0; s < samples && problems.isEmpty(); s++) {
        long label = labels.classes()[s];
        if (label != 0 && label != 1) {
          problems.add("label " + label + " of sample " + s + " is not 0 or 1");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new MetricException(problems.get(0) + " (labels must match output '" + output(metric, spec)
          + "'; check the output name, class_axis, or shift 1-based labels by -1)");
    }
  }

  private static String output(Metric<?> metric, SweepSpec spec) {
    return spec.output() == null ? "(first output)" : spec.output();
  }
}
