package dev.bitsweep.pipeline;

import dev.bitsweep.cluster.BeamJob;
import dev.bitsweep.cluster.JobFailedException;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.SkippedTensor;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.spec.SpecException;
import dev.bitsweep.spec.SweepConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;

/**
 * Runs a sweep: plans and checks it ({@link SweepPlanner}) before any job starts, runs the statistics job when the
 * statistics are not cached and then the sweep job on the chosen runner, and publishes the results only when the
 * whole job succeeded. Whatever happens, the submission's staging area is gone afterwards.
 */
public final class SweepRunner {
  private final PrintStream console;

  public SweepRunner(PrintStream console) {
    this.console = console;
  }

  public SweepOutcome run(Path specFile, Launch launch) {
    double jvmStart = SweepOverhead.jvmStartSecondsOnce();
    long started = System.nanoTime();
    PlannedSweep sweep = SweepPlanner.plan(specFile, launch.outOverride());
    double planning = CompressLayers.seconds(started);
    int threadsPerTask = launch.resolveThreadsPerTask();
    printPlan(sweep, launch, threadsPerTask);
    Path staging = sweep.staging();
    // Unique per submission, so that the job can be found on a shared cluster's REST API.
    String jobName = "bitsweep-" + staging.getFileName();
    ProgressReporter progress = new ProgressReporter(console, staging, sweep.totals());
    BeamJob job = null;
    boolean published = false;
    try {
      Files.createDirectories(staging);
      progress.start();
      long calibrationBatches = 0;
      long jobsStarted = System.nanoTime();
      if (sweep.collectsStatistics()) {
        job = new BeamJob(launch, jobName + "-statistics", console);
        PipelineResult statistics = job.run(p -> SweepPipeline.buildStatistics(p, sweep));
        calibrationBatches = BeamJob.counter(statistics, CollectStatistics.class, CollectStatistics.BATCHES_COUNTER);
        checkStatisticsCached(sweep.calibration().orElseThrow());
      }
      job = new BeamJob(launch, jobName, console);
      job.run(p -> SweepPipeline.build(p, sweep, threadsPerTask));
      progress.stop();
      double jobs = CompressLayers.seconds(jobsStarted);
      long publishing = System.nanoTime();
      List<String> configIds = sweep.configs().stream().map(SweepConfig::configId).toList();
      Publisher.publish(staging, sweep.out(), sweep.sweepId(), configIds);
      published = true;
      List<RunSummary> rows = RunSummary.read(sweep.out(), sweep.sweepId());
      double seconds = (System.nanoTime() - started) / 1e9;
      Path report = Report.write(sweep.out(), sweep.sweepId(), sweep.spec(), rows, seconds);
      dev.bitsweep.report.HtmlReport.write(sweep.out(), sweep.sweepId());
      SweepOverhead overhead = new SweepOverhead(jvmStart, planning, jobs, CompressLayers.seconds(publishing));
      return new SweepOutcome(sweep.sweepId(), sweep.out(), rows, report, seconds, job.flinkJobId(),
          calibrationBatches, overhead);
    } catch (IOException | RuntimeException e) {
      if (job != null) {
        job.reportEnd();
      }
      throw failure(e, published ? "; the results are published in " + sweep.out() + ", but not its report"
          : "; no results were published");
    } finally {
      progress.stop();
      try {
        Publisher.discard(staging);
      } catch (UncheckedIOException e) {
        console.println("  warning: " + e.getMessage() + " (" + rootMessage(e) + "); remove it by hand");
      }
    }
  }

  private void printPlan(PlannedSweep sweep, Launch launch, int threadsPerTask) {
    var spec = sweep.spec();
    var inventory = sweep.inventory();
    console.printf("bitsweep %s: sweep %s%n", Version.get(), sweep.sweepId());
    console.printf("  model   %s (opset %d, %d layers to compress, %d tensors skipped)%n", spec.model(),
        sweep.plan().modelOpset(), inventory.layers().size(), inventory.skipped().size());
    for (SkippedTensor skipped : inventory.skipped()) {
      console.printf("          skip %s %s: %s%n", skipped.name(), skipped.shape(), skipped.reason());
    }
    console.printf("  data    %s (%d samples, batches of %d)%n", spec.evalData(), sweep.plan().evalSamples(),
        spec.batchSize());
    sweep.calibration().ifPresent(calibration -> console.printf(
        "  calib   %s (%d samples, %d layers with input statistics)%s%n", spec.calibrationData(),
        calibration.samples(), calibration.layers().size(),
        calibration.cached() ? "; statistics reused from " + calibration.cacheDir() : ""));
    console.printf("  configs %d on runner %s (%sparallelism %d, %d thread%s per task)%n", spec.configs().size(),
        launch.runner(), launch.runner().equals("flink") ? launch.flinkMaster() + ", " : "", launch.parallelism(),
        threadsPerTask, threadsPerTask == 1 ? "" : "s");
  }

  private static void checkStatisticsCached(CalibrationPlan calibration) {
    List<String> missing = StatisticsCache.missing(Path.of(calibration.cacheDir()),
        calibration.layers().stream().map(Layer::name).toList());
    if (!missing.isEmpty()) {
      throw new SweepFailedException("the statistics job finished but " + calibration.cacheDir()
          + " lacks the statistics of " + missing + "; no results were published");
    }
  }

  /** Bad input and failures already worded for people pass unchanged; anything else gets its root cause. */
  private static RuntimeException failure(Exception e, String consequence) {
    if (e instanceof SweepFailedException || e instanceof SpecException || e instanceof ModelException) {
      return (RuntimeException) e;
    }
    if (e instanceof JobFailedException) {
      return new SweepFailedException(e.getMessage(), e);
    }
    return new SweepFailedException("the sweep failed: " + rootMessage(e) + consequence, e);
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
}
