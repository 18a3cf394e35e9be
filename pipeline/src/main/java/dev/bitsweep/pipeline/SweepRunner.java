package dev.bitsweep.pipeline;

import dev.bitsweep.cluster.FlinkRest;
import dev.bitsweep.cluster.JobJar;
import dev.bitsweep.cluster.JobWatcher;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.layer.LayerInventory;
import dev.bitsweep.layer.SkippedTensor;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.results.WriteResults;
import dev.bitsweep.spec.SpecException;
import dev.bitsweep.spec.SweepConfig;
import dev.bitsweep.spec.SweepSpec;
import dev.bitsweep.stats.CapturePlan;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricsFilter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * Runs a sweep: checks everything that can be checked before the job starts, runs the pipeline on the chosen
 * runner, and publishes the results only when the whole job succeeded.
 */
public final class SweepRunner {

  /**
   * Where and how to run. On a cluster, the cluster's restart strategy applies.
   *
   * @param threadsPerTask threads one compression task may use; 0 chooses {@link #AUTO_THREADS}
   */
  public record Launch(String runner, String flinkMaster, int parallelism, int threadsPerTask, Path outOverride,
      List<String> filesToStage) {
    /**
     * The default thread budget of a task: the cores of a worker divided among its parallel slots, at least 1 (on a
     * cluster, the smallest share over its TaskManagers; embedded, this machine's cores over the parallelism).
     */
    public static final int AUTO_THREADS = 0;

    public Launch {
      if (parallelism < 1) {
        throw new SpecException("--parallelism must be >= 1, got " + parallelism);
      }
      if (threadsPerTask < 0) {
        throw new SpecException("--threads-per-task must be >= 1 (or 0 for one share of a worker's cores), got "
            + threadsPerTask);
      }
      filesToStage = List.copyOf(filesToStage);
    }

    public static Launch embedded() {
      return new Launch("flink", "[local]", 2, AUTO_THREADS, null, List.of());
    }

    public Launch withRunner(String runner) {
      return new Launch(runner, flinkMaster, parallelism, threadsPerTask, outOverride, filesToStage);
    }

    public Launch withOut(Path out) {
      return new Launch(runner, flinkMaster, parallelism, threadsPerTask, out, filesToStage);
    }

    public Launch withThreadsPerTask(int threads) {
      return new Launch(runner, flinkMaster, parallelism, threads, outOverride, filesToStage);
    }

    /** A Flink session cluster at {@code restAddress} (HOST:PORT); the job jar is found by {@link JobJar}. */
    public static Launch cluster(String restAddress, int parallelism) {
      return new Launch("flink", restAddress, parallelism, AUTO_THREADS, null, List.of());
    }

    /** The threads each compression task gets: as given, or the per-slot share of a worker's cores. */
    int resolveThreadsPerTask() {
      if (threadsPerTask > 0) {
        return threadsPerTask;
      }
      if (onCluster()) {
        try {
          return new FlinkRest(flinkMaster).coresPerSlot();
        } catch (UncheckedIOException e) {
          throw new SweepFailedException("cannot reach the Flink cluster at " + flinkMaster + " (" + e.getMessage()
              + "); is it running? (deploy/cluster.sh status) Nothing was submitted.", e);
        }
      }
      return Math.max(1, Runtime.getRuntime().availableProcessors() / parallelism);
    }

    public boolean onCluster() {
      return runner.equals("flink") && !FlinkRest.isEmbedded(flinkMaster);
    }

    /** What is uploaded to the cluster: the given jars, or the bitsweep job jar. */
    List<String> stagedFiles() {
      if (!filesToStage.isEmpty()) {
        List<String> absolute = new ArrayList<>();
        for (String file : filesToStage) {
          Path path = Path.of(file).toAbsolutePath().normalize();
          if (!Files.isRegularFile(path)) {
            throw new SpecException("--files-to-stage " + file + ": no such file");
          }
          absolute.add(path.toString());
        }
        return absolute;
      }
      return List.of(JobJar.locate().toString());
    }
  }

  private final PrintStream console;

  public SweepRunner(PrintStream console) {
    this.console = console;
  }

  public SweepOutcome run(Path specFile, Launch launch) {
    long started = System.nanoTime();
    SweepSpec spec = SweepSpec.read(specFile);
    OnnxModel model = OnnxModel.read(spec.model());
    LayerInventory inventory = LayerFinder.find(model.proto(), spec.weightThreshold());
    if (inventory.layers().isEmpty()) {
      throw new ModelException("model " + spec.model() + " has no compressible layers (float weights of MatMul, Gemm,"
          + " Conv, ConvTranspose, LSTM/GRU/RNN or Gather with at least weight_threshold=" + spec.weightThreshold()
          + " elements); skipped: " + describe(inventory.skipped()));
    }
    checkConfigsFitLayers(spec, inventory.layers());
    List<ModelInput> inputs = ModelInput.of(model.proto());
    Dataset eval = Dataset.open(spec.evalData(), inputs, spec.task() == SweepSpec.Task.CLASSIFICATION);
    eval.checkLabelsFit(model.proto());
    int samples = spec.evalSamples() == 0 ? eval.samples() : Math.min(spec.evalSamples(), eval.samples());
    CapturePlan capture = CapturePlan.of(model.proto(), inventory.layers());
    checkCalibration(spec, inventory.layers(), capture);
    int calibrationSamples = 0;
    if (spec.calibrationData() != null) {
      Dataset calibrationData = Dataset.open(spec.calibrationData(), inputs, false);
      calibrationSamples = calibrationSampleCount(spec, calibrationData);
    }
    String evalSha = DataFingerprint.of(spec.evalData());
    String calibrationSha = spec.calibrationData() == null ? null : DataFingerprint.of(spec.calibrationData());
    String sweepId = SweepIds.of(spec, model.sha256(), evalSha, calibrationSha, samples);
    Path out = (launch.outOverride() != null ? launch.outOverride() : spec.out()).toAbsolutePath().normalize();
    Path staging = out.resolve(".staging").resolve(sweepId + "-" + UUID.randomUUID().toString().substring(0, 8));
    SweepPlan plan = new SweepPlan(sweepId, model.path().toAbsolutePath().toString(), model.sha256(), model.fileBytes(),
        model.defaultOpset(), inputs, spec.evalData().toString(), evalSha, samples, spec.batchSize(), calibrationSha,
        spec.task(), staging.toString(), inventory.skipped(), launch.resolveThreadsPerTask(), Version.get());
    CalibrationPlan calibration = spec.calibrationData() == null ? null
        : calibrationPlan(spec, model, inventory.layers(), capture, calibrationSha, calibrationSamples, out);

    console.printf("bitsweep %s: sweep %s%n", Version.get(), sweepId);
    console.printf("  model   %s (opset %d, %d layers to compress, %d tensors skipped)%n", spec.model(),
        model.defaultOpset(), inventory.layers().size(), inventory.skipped().size());
    for (SkippedTensor skipped : inventory.skipped()) {
      console.printf("          skip %s %s: %s%n", skipped.name(), skipped.shape(), skipped.reason());
    }
    console.printf("  data    %s (%d samples, batches of %d)%n", spec.evalData(), samples, spec.batchSize());
    if (calibration != null) {
      console.printf("  calib   %s (%d samples, %d layers with input statistics)%s%n", spec.calibrationData(),
          calibration.samples(), calibration.layers().size(),
          calibration.cached() ? "; statistics reused from " + calibration.cacheDir() : "");
    }
    console.printf("  configs %d on runner %s (%sparallelism %d, %d thread%s per task)%n", spec.configs().size(),
        launch.runner(), launch.runner().equals("flink") ? launch.flinkMaster() + ", " : "", launch.parallelism(),
        plan.threadsPerTask(), plan.threadsPerTask() == 1 ? "" : "s");

    int compressTotal = CompressLayers.tasks(inventory.layers(), spec.configs()).size();
    boolean collectStatistics = calibration != null && !calibration.cached();
    long calibrateTotal = collectStatistics ? calibration.batchCount() : 0;
    ProgressReporter progress = new ProgressReporter(console, staging, calibrateTotal, compressTotal, spec.configs().size(),
        spec.configs().size() * plan.batchCount());
    // Unique per submission, so that the job can be found on a shared cluster's REST API.
    String jobName = "bitsweep-" + sweepId + "-" + staging.getFileName().toString().substring(sweepId.length() + 1);
    Job job = null;
    try {
      Files.createDirectories(staging);
      progress.start();
      long calibrationBatches = 0;
      if (collectStatistics) {
        job = new Job(launch, jobName + "-statistics", console);
        PipelineResult statistics = job.run(p -> SweepPipeline.buildStatistics(p, plan, calibration));
        calibrationBatches = counter(statistics, CollectStatistics.BATCHES_COUNTER);
        List<String> missing = StatisticsCache.missing(Path.of(calibration.cacheDir()),
            calibration.layers().stream().map(Layer::name).toList());
        if (!missing.isEmpty()) {
          throw new SweepFailedException("the statistics job finished but " + calibration.cacheDir()
              + " lacks the statistics of " + missing + "; no results were published");
        }
      }
      job = new Job(launch, jobName, console);
      job.run(p -> SweepPipeline.build(p, plan, calibration, inventory.layers(), spec.configs()));
      progress.stop();
      Publisher.publish(staging, out, sweepId, spec.configs());
      List<RunSummary> rows = RunSummary.read(out, sweepId);
      double seconds = (System.nanoTime() - started) / 1e9;
      Path report = Report.write(out, sweepId, spec, rows, seconds);
      return new SweepOutcome(sweepId, out, rows, report, seconds, job.flinkJobId(), calibrationBatches);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      progress.stop();
      if (job != null) {
        job.reportEnd();
      }
      Publisher.discard(staging);
      if (e instanceof SweepFailedException || e instanceof SpecException || e instanceof ModelException) {
        throw e;
      }
      throw new SweepFailedException("the sweep failed: " + rootMessage(e) + "; no results were published", e);
    }
  }

  /** One Beam job of a sweep, followed on the cluster's REST API when it runs on a cluster. */
  private static final class Job {
    private final Launch launch;
    private final String name;
    private final PrintStream console;
    private final JobWatcher watcher;

    Job(Launch launch, String name, PrintStream console) {
      this.launch = launch;
      this.name = name;
      this.console = console;
      this.watcher = launch.onCluster() ? new JobWatcher(new FlinkRest(launch.flinkMaster()), name, console) : null;
    }

    /** Builds, submits and waits for the job; anything but DONE is a {@link SweepFailedException}. */
    PipelineResult run(Consumer<Pipeline> build) {
      Pipeline pipeline = Pipeline.create(options(launch, name));
      build.accept(pipeline);
      if (watcher != null) {
        console.printf("  submitting to the Flink cluster at %s (job %s, uploading %s)%n", launch.flinkMaster(), name,
            String.join(", ", launch.stagedFiles()));
        watcher.start();
      }
      PipelineResult result = pipeline.run();
      PipelineResult.State state = result.waitUntilFinish();
      if (watcher != null) {
        watcher.stop();
      }
      if (state != PipelineResult.State.DONE) {
        throw new SweepFailedException("the job " + name + " ended in state " + state + "; no results were published");
      }
      return result;
    }

    String flinkJobId() {
      return watcher == null ? null : watcher.jobId().orElse(null);
    }

    /** After a failure: stops following the job and says where it ended. */
    void reportEnd() {
      if (watcher == null) {
        return;
      }
      watcher.stop();
      if (watcher.jobId().isPresent()) {
        console.printf("  flink job %s ended %s; see %s%n", watcher.jobId().get(),
            watcher.lastState().isEmpty() ? "without a state" : watcher.lastState(), launch.flinkMaster());
      }
    }
  }

  private static void checkConfigsFitLayers(SweepSpec spec, List<Layer> layers) {
    for (SweepConfig config : spec.configs()) {
      for (Layer layer : layers) {
        Optional<CompressionConfig> applied = config.configFor(layer);
        if (applied.isEmpty()) {
          continue;
        }
        try {
          applied.get().validateFor(layer.rows(), layer.cols());
        } catch (ConfigException e) {
          throw new SpecException(spec.specFile() + ": config '" + config.configId() + "' cannot compress layer "
              + layer.name() + " " + layer.shapeText() + " (" + layer.rows() + " output channels x " + layer.cols()
              + "): " + e.getMessage() + "; change the value, or exclude the layer with a 'layers: {" + layer.name()
              + ": null}' rule");
        }
      }
    }
  }

  /**
   * Calibration methods need calibration data, and a layer whose input they can see: a MatMul, Gemm or Conv weight
   * of the main graph.
   */
  private static void checkCalibration(SweepSpec spec, List<Layer> layers, CapturePlan capture) {
    for (SweepConfig config : spec.configs()) {
      for (Layer layer : layers) {
        Optional<CompressionConfig> applied = config.configFor(layer);
        if (applied.isEmpty() || !applied.get().needsCalibration()) {
          continue;
        }
        String method = applied.get().method() + (applied.get().method().equals("palettize") ? " (sensitivity: hessian)" : "");
        if (spec.calibrationData() == null) {
          throw new SpecException(spec.specFile() + ": config '" + config.configId() + "' uses " + method
              + ", which needs calibration statistics: add 'calibration_data: <directory>' (one <input>.npy per model"
              + " input) to the spec");
        }
        String reason = capture.unsupported().get(layer.name());
        if (reason != null) {
          throw new SpecException(spec.specFile() + ": config '" + config.configId() + "' applies " + method
              + " to layer " + layer.name() + " " + layer.shapeText() + ", which has no input Hessian: " + reason
              + "; exclude it with 'op_types: {" + layer.opType() + ": null}' or a 'layers: {" + layer.name()
              + ": null}' rule, or give it an uncalibrated config there");
        }
      }
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
   * null when there is no such layer.
   */
  private static CalibrationPlan calibrationPlan(SweepSpec spec, OnnxModel model, List<Layer> layers,
      CapturePlan capture, String calibrationSha, int samples, Path out) {
    List<Layer> measured = new ArrayList<>();
    for (Layer layer : layers) {
      boolean compressed = spec.configs().stream().anyMatch(c -> c.configFor(layer).isPresent());
      if (compressed && capture.sites().containsKey(layer.name())) {
        measured.add(layer);
      }
    }
    if (measured.isEmpty()) {
      return null; // no MatMul/Gemm/Conv layer is compressed: nothing to measure
    }
    Path cacheDir = StatisticsCache.directory(out, model.sha256(), calibrationSha, samples);
    boolean cached = StatisticsCache.holdsAll(cacheDir, measured.stream().map(Layer::name).toList());
    return new CalibrationPlan(spec.calibrationData().toAbsolutePath().toString(), samples, spec.batchSize(), measured,
        capture, cacheDir.toString(), cached);
  }

  private static long counter(PipelineResult result, String name) {
    try {
      var query = result.metrics().queryMetrics(MetricsFilter.builder()
          .addNameFilter(MetricNameFilter.named(CollectStatistics.class, name)).build());
      long total = 0;
      for (var counter : query.getCounters()) {
        Long value = counter.getAttempted();
        total += value == null ? 0 : value;
      }
      return total;
    } catch (UnsupportedOperationException e) {
      return -1;
    }
  }

  private static PipelineOptions options(Launch launch, String jobName) {
    if (launch.runner().equals("direct")) {
      PipelineOptions options = PipelineOptionsFactory.create();
      options.setRunner(DirectRunner.class);
      var direct = options.as(org.apache.beam.runners.direct.DirectOptions.class);
      direct.setTargetParallelism(Math.max(1, launch.parallelism()));
      // Compressed layers are large arrays: skip the DirectRunner's per-element mutation checks.
      direct.setEnforceImmutability(false);
      return options;
    }
    FlinkPipelineOptions options = PipelineOptionsFactory.as(FlinkPipelineOptions.class);
    options.setRunner(FlinkRunner.class);
    options.setFlinkMaster(launch.flinkMaster());
    options.setParallelism(launch.parallelism());
    options.setJobName(jobName);
    if (launch.onCluster()) {
      options.setFilesToStage(launch.stagedFiles());
    } else if (!launch.filesToStage().isEmpty()) {
      options.setFilesToStage(launch.filesToStage());
    }
    return options;
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

  static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }

  /** A sweep that ran but did not complete. */
  public static final class SweepFailedException extends RuntimeException {
    public SweepFailedException(String message) {
      super(message);
    }

    public SweepFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  static Path stagedRuns(Path staging) {
    return WriteResults.stagedTable(staging.toString(), "runs");
  }
}
