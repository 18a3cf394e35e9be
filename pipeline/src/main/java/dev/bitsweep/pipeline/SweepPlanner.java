package dev.bitsweep.pipeline;

import dev.bitsweep.activations.QdqInserter;
import dev.bitsweep.activations.QdqPlan;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.InputLayout;
import dev.bitsweep.spec.InputSpecs;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.layer.LayerInventory;
import dev.bitsweep.layer.SkippedTensor;
import dev.bitsweep.methods.Fallback;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.external.ModelSize;
import dev.bitsweep.spec.SpecException;
import dev.bitsweep.spec.SweepConfig;
import dev.bitsweep.spec.SweepSpec;
import dev.bitsweep.stats.CaptureGroups;
import dev.bitsweep.stats.CapturePlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Plans a sweep before any job runs, with no Beam in it: reads the spec, the model and the data headers, matches
 * every config to every layer once (the {@link LayerTask}s), and checks the tasks against what they need (a config
 * must fit its layer's shape; a calibration method needs calibration data and a layer whose input it can see). The
 * calibration pass, the progress totals and the compression job's task source all read the same task list.
 */
public final class SweepPlanner {
  private SweepPlanner() {}

  /** Plans with the statistics memory budget of an embedded run at parallelism 2 in this JVM. */
  public static PlannedSweep plan(Path specFile, Path outOverride) {
    return plan(specFile, outOverride, CaptureGroups.budgetFromHeap(Runtime.getRuntime().maxMemory(), 2));
  }

  /**
   * @param outOverride the output directory given on the command line, or null for the spec's
   * @param statisticsBudgetBytes the memory one calibration capture task may use for its Hessians
   *     ({@link CaptureGroups})
   */
  public static PlannedSweep plan(Path specFile, Path outOverride, long statisticsBudgetBytes) {
    SweepSpec spec = SweepSpec.read(specFile);
    OnnxModel model = OnnxModel.read(spec.model());
    LayerInventory inventory = LayerFinder.find(model.proto(), spec.weightThreshold());
    if (inventory.layers().isEmpty() && !spec.configs().stream().allMatch(SweepConfig::activationsOnly)) {
      throw new ModelException("model " + spec.model() + " has no compressible layers (float weights of MatMul, Gemm,"
          + " Conv, ConvTranspose, LSTM/GRU/RNN or Gather with more than weight_threshold=" + spec.weightThreshold()
          + " elements); skipped: " + describe(inventory.skipped()));
    }
    if (model.defaultOpset() < ModelChecks.MIN_OPSET) {
      throw new ModelException("model " + spec.model() + " uses opset " + model.defaultOpset() + "; ONNX Runtime and"
          + " bitsweep need opset " + ModelChecks.MIN_OPSET + " or newer: convert it, e.g. with"
          + " onnx.version_converter.convert_version(model, 13)");
    }
    CapturePlan capture = CapturePlan.of(model.proto(), inventory.layers());
    List<LayerSkip> skippedByConfigs = new ArrayList<>();
    List<LayerTask> tasks = fit(spec, tasks(spec.configs(), inventory.layers()), capture, skippedByConfigs);
    ModelChecks.checkFiniteWeights(spec.model(), model, tasks);
    List<ModelInput> inputs = InputLayout.apply(model.proto(), InputSpecs.read(spec.specFile()),
        spec.specFile().toAbsolutePath().getParent());
    if (spec.quantizesActivations() && model.defaultOpset() < QdqInserter.MIN_OPSET) {
      throw new SpecException(spec.specFile() + ": activation quantization needs QuantizeLinear/DequantizeLinear, "
          + "which exist from opset " + QdqInserter.MIN_OPSET + ", but " + spec.model() + " imports opset "
          + model.defaultOpset() + "; re-export the model at opset " + QdqInserter.MIN_OPSET + " or newer, or remove "
          + "the 'activations' configs (bitsweep does not raise a model's opset)");
    }
    ModelChecks.checkRuntimeLoads(spec.model(), inputs);
    Dataset eval = Dataset.open(spec.evalData(), inputs, false);
    if (spec.task() == SweepSpec.Task.CLASSIFICATION && spec.labels() == null && spec.output() == null) {
      eval.checkLabelsFit(model.proto());
    }
    int samples = spec.evalSamples() == 0 ? eval.samples() : Math.min(spec.evalSamples(), eval.samples());
    if (samples == 0) {
      throw new SpecException(spec.specFile() + ": eval_data " + spec.evalData() + " holds no samples (its arrays"
          + " have 0 rows); give it at least one sample per model input");
    }
    List<Integer> sequenceStarts = SequenceBatches.starts(spec, "eval_samples", eval, inputs, samples);
    tasks.forEach(task -> checkCalibration(spec, task, capture));
    Dataset calibrationData = spec.calibrationData() == null ? null
        : Dataset.open(spec.calibrationData(), inputs, false);
    int calibrationSamples = calibrationData == null ? 0 : calibrationSampleCount(spec, calibrationData);
    List<Integer> calibrationStarts = calibrationData == null ? List.of()
        : SequenceBatches.starts(spec, "calibration_samples", calibrationData, inputs, calibrationSamples);

    String evalSha = DataFingerprint.of(spec.evalData());
    String calibrationSha = spec.calibrationData() == null ? null : DataFingerprint.of(spec.calibrationData());
    String layout = InputLayout.identity(inputs);
    String sweepId = SweepIds.of(spec, model.sha256(), evalSha, calibrationSha, samples, layout);
    Path out = (outOverride != null ? outOverride : spec.out()).toAbsolutePath().normalize();
    Path staging = StagingAreas.newPath(out, sweepId);
    SweepPlan plan = new SweepPlan(sweepId, model.path().toAbsolutePath().toString(), model.sha256(),
        ModelSize.totalBytes(model.path(), model.proto()),
        model.defaultOpset(), inputs, spec.evalData().toString(), evalSha, samples, spec.batchSize(), calibrationSha,
        spec.task(), staging.toString(), inventory.skipped(), Version.get(), skippedByConfigs, sequenceStarts,
        spec.packageExternalDataBytes());
    Optional<CalibrationPlan> calibration = spec.calibrationData() == null ? Optional.empty()
        : calibrationPlan(spec, model, inventory.layers(), tasks, capture, calibrationSha, calibrationSamples,
            calibrationStarts, layout, out, statisticsBudgetBytes);
    Evaluation evaluation = EvaluationCheck.plan(spec, model, eval, plan);
    return new PlannedSweep(spec, out, staging, plan, inventory, tasks, calibration, evaluation);
  }

  /** Every (config, layer) pair the config applies to, config by config, layers in model order. */
  public static List<LayerTask> tasks(List<SweepConfig> configs, List<Layer> layers) {
    List<LayerTask> tasks = new ArrayList<>();
    for (SweepConfig config : configs) {
      for (Layer layer : layers) {
        config.configFor(layer).ifPresent(applied -> tasks.add(new LayerTask(config.configId(), layer, applied)));
      }
    }
    return tasks;
  }

  /** A layer a config leaves uncompressed although it matched it, and why. */
  public record LayerSkip(String configId, SkippedTensor tensor) implements java.io.Serializable {
    LayerSkip(String configId, Layer layer, String reason) {
      this(configId, new SkippedTensor(layer.name(), layer.opType(), layer.shapeText(), layer.params(), reason));
    }
  }

  /**
   * The tasks as they will run: each config fitted to each of its layers by its {@code fallback}, and the layers a
   * config leaves uncompressed in {@code skipped}: with {@code fallback: skip}, or a calibrated method (GPTQ,
   * SparseGPT, sensitive k-means) from the config's global part on a layer whose input Hessian does not exist (a
   * Gather embedding, a ConvTranspose: those methods are defined for MatMul/Gemm/Conv). Every layer a config cannot
   * fit with {@code fallback: error} is listed in one message.
   */
  static List<LayerTask> fit(SweepSpec spec, List<LayerTask> tasks, CapturePlan capture, List<LayerSkip> skipped) {
    Map<String, SweepConfig> configs = new HashMap<>();
    spec.configs().forEach(c -> configs.put(c.configId(), c));
    List<LayerTask> fitted = new ArrayList<>();
    List<String> misfits = new ArrayList<>();
    for (LayerTask task : tasks) {
      SweepConfig sweepConfig = configs.get(task.configId());
      Layer layer = task.layer();
      String noHessian = capture.unsupported().get(layer.name());
      if (task.config().needsCalibration() && noHessian != null && sweepConfig != null
          && task.config() == sweepConfig.global()) {
        skipped.add(new LayerSkip(task.configId(), layer, task.config().method() + " needs an input Hessian, and "
            + noHessian));
        continue;
      }
      try {
        task.config().validateFor(layer.rows(), layer.cols());
        fitted.add(task);
        continue;
      } catch (ConfigException e) {
        Fallback fallback = sweepConfig == null ? Fallback.ERROR : sweepConfig.fallback();
        String why = layer.name() + " " + layer.shapeText() + " (" + layer.rows() + " output channels x "
            + layer.cols() + "): " + e.getMessage();
        if (fallback == Fallback.SKIP) {
          skipped.add(new LayerSkip(task.configId(), layer, "fallback skip: " + e.getMessage()));
          continue;
        }
        Optional<Fallback.Refit> refit = fallback.refit(task.config(), layer.rows(), layer.cols());
        if (refit.isPresent()) {
          fitted.add(new LayerTask(task.configId(), layer, refit.get().config(), refit.get().applied()));
        } else {
          misfits.add("config '" + task.configId() + "' cannot compress layer " + why
              + (fallback == Fallback.ERROR ? "" : " (and fallback " + fallback.id() + " does not fit it either)"));
        }
      }
    }
    if (!misfits.isEmpty()) {
      throw new SpecException(spec.specFile() + ": " + misfits.size() + " (config, layer) pair"
          + (misfits.size() == 1 ? "" : "s") + " do not fit:\n  " + String.join("\n  ", misfits)
          + "\nchange the values, exclude layers with 'layers: {<name>: null}' rules, or give the config a 'fallback:'"
          + " (skip, per_tensor, per_channel or nearest)");
    }
    return fitted;
  }

  /**
   * Calibration methods need calibration data, and a layer whose input they can see: a MatMul, Gemm or Conv weight
   * of the main graph.
   */
  private static void checkCalibration(SweepSpec spec, LayerTask task, CapturePlan capture) {
    CompressionConfig config = task.config();
    if (!config.needsCalibration()) {
      return;
    }
    Layer layer = task.layer();
    String method = config.method() + (config.method().equals("palettize") ? " (sensitivity: hessian)" : "");
    if (spec.calibrationData() == null) {
      throw new SpecException(spec.specFile() + ": config '" + task.configId() + "' uses " + method
          + ", which needs calibration statistics: add 'calibration_data: <directory>' (one <input>.npy per model"
          + " input) to the spec");
    }
    String reason = capture.unsupported().get(layer.name());
    if (reason != null) {
      throw new SpecException(spec.specFile() + ": config '" + task.configId() + "' applies " + method
          + " to layer " + layer.name() + " " + layer.shapeText() + ", which has no input Hessian: " + reason
          + "; exclude it with 'op_types: {" + layer.opType() + ": null}' or a 'layers: {" + layer.name()
          + ": null}' rule, or give it an uncalibrated config there");
    }
  }

  private static int calibrationSampleCount(SweepSpec spec, Dataset data) {
    if (data.samples() == 0) {
      throw new SpecException(spec.specFile() + ": calibration_data " + spec.calibrationData() + " has no samples");
    }
    if (spec.calibrationSamples() > data.samples()) {
      throw new SpecException(spec.specFile() + ": calibration_samples is " + spec.calibrationSamples() + " but "
          + spec.calibrationData() + " holds only " + data.samples() + " samples; lower it or remove it (all samples)");
    }
    return spec.calibrationSamples() == 0 ? data.samples() : spec.calibrationSamples();
  }

  /**
   * Every compressed layer with a visible input gets statistics, so every method's output error can be measured;
   * empty when there is no such layer. Layers that read the same input share one Hessian, named by the model's
   * first such layer; the Hessians are split into capture groups that fit {@code budgetBytes} each.
   */
  private static Optional<CalibrationPlan> calibrationPlan(SweepSpec spec, OnnxModel model, List<Layer> layers,
      List<LayerTask> tasks, CapturePlan capture, String calibrationSha, int samples, List<Integer> sequenceStarts,
      String layout, Path out, long budgetBytes) {
    Set<String> compressed = new HashSet<>();
    tasks.forEach(task -> compressed.add(task.layer().name()));
    Map<String, String> owners = capture.hessianOwners(layers);
    List<Layer> measured = new ArrayList<>();
    Map<String, String> hessianOf = new HashMap<>();
    Set<String> hessianNames = new HashSet<>();
    for (Layer layer : layers) {
      if (compressed.contains(layer.name()) && owners.containsKey(layer.name())) {
        measured.add(layer);
        hessianOf.put(layer.name(), owners.get(layer.name()));
        hessianNames.add(owners.get(layer.name()));
      }
    }
    List<Layer> hessians = layers.stream().filter(layer -> hessianNames.contains(layer.name())).toList();
    List<String> activations = spec.quantizesActivations() ? QdqPlan.of(model.proto()).tensors() : List.of();
    if (measured.isEmpty() && activations.isEmpty()) {
      return Optional.empty(); // no MatMul/Gemm/Conv layer is compressed, no activation quantized: nothing to measure
    }
    Path cacheDir = StatisticsCache.directory(out, model.sha256(), calibrationSha, samples, layout);
    boolean cached = StatisticsCache.holdsAll(cacheDir, hessianNames)
        && (activations.isEmpty() || Files.isRegularFile(StatisticsCache.activationsFile(cacheDir, activations)));
    return Optional.of(new CalibrationPlan(spec.calibrationData().toAbsolutePath().toString(), samples,
        spec.batchSize(), measured, capture, cacheDir.toString(), cached, activations, sequenceStarts, hessianOf,
        CaptureGroups.partition(hessians, capture, budgetBytes), budgetBytes));
  }

  private static String describe(List<SkippedTensor> skipped) {
    if (skipped.isEmpty()) {
      return "none";
    }
    List<String> parts = new ArrayList<>();
    for (SkippedTensor s : skipped) {
      parts.add(s.name() + " " + s.shape() + " (" + s.reason() + ")");
    }
    return String.join("; ", parts);
  }
}
