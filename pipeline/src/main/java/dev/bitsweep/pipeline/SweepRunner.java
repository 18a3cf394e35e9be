package dev.bitsweep.pipeline;

import dev.bitsweep.cluster.BeamJob;
import dev.bitsweep.cluster.JobFailedException;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.layer.SkippedTensor;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.spec.SpecException;
import dev.bitsweep.spec.SweepConfig;
import dev.bitsweep.stats.CaptureGroups;
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
  private final boolean fresh;
  private final long evalMemoryBytes;

  public SweepRunner(PrintStream console) {
    this(console, false, 0);
  }

  private SweepRunner(PrintStream console, boolean fresh, long evalMemoryBytes) {
    this.console = console;
    this.fresh = fresh;
    this.evalMemoryBytes = evalMemoryBytes;
  }

  public SweepOutcome run(Path specFile, Launch launch) {
    double jvmStart = SweepOverhead.jvmStartSecondsOnce();
    long started = System.nanoTime();
    if (launch.runner().equals("flink") && !launch.onCluster()) {
      dev.bitsweep.cluster.SharedRpcSystemLoader.prewarm(); // loads Flink's RPC classes while the sweep is planned
    }
    PlannedSweep sweep = SweepPlanner.plan(specFile, launch.outOverride(),
        CaptureGroups.budgetFromHeap(Runtime.getRuntime().maxMemory(), launch.parallelism()));
    double planning = CompressLayers.seconds(started);
    int threadsPerTask = launch.resolveThreadsPerTask();
    Path staging = sweep.staging();
    prepareOut(sweep);
    printPlan(sweep, launch, threadsPerTask);
    // Unique per submission, so that the job can be found on a shared cluster's REST API.
    String jobName = "bitsweep-" + staging.getFileName();
    ProgressReporter progress = new ProgressReporter(console, staging, sweep.totals());
    StagingCleanup cleanup = StagingCleanup.register(staging);
    BeamJob job = null;
    try {
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
      job.run(p -> SweepPipeline.build(p, sweep, threadsPerTask, evalMemoryBytes));
      progress.stop();
      double jobs = CompressLayers.seconds(jobsStarted);
      long publishing = System.nanoTime();
      printReused(sweep);
      List<RunSummary> rows = RunSummary.readPartition(WriteResults.stagedTable(staging.toString(), "runs"));
      double seconds = (System.nanoTime() - started) / 1e9;
      Report.writeTo(staging.resolve(Publisher.STAGED_REPORT), sweep.sweepId(), sweep.spec(), rows, seconds);
      cleanup.publish(() -> Publisher.publish(staging, sweep.out(), sweep.sweepId()));
      try {
        ResumeCache.clear(sweep.out(), sweep.sweepId());
      } catch (IOException e) {
        console.println("  warning: cannot remove the resume cache of " + sweep.sweepId() + " (" + rootMessage(e)
            + "); a rerun would reuse it");
      }
      Path report = Publisher.targets(sweep.out(), sweep.sweepId()).get(2);
      try {
        // a view of the published tables (it reads them from out), so it is written after publishing
        dev.bitsweep.report.HtmlReport.write(sweep.out(), sweep.sweepId());
      } catch (RuntimeException e) {
        console.println("  warning: the results of " + sweep.sweepId() + " are published, but their HTML report"
            + " could not be written (" + rootMessage(e) + ")");
      }
      SweepOverhead overhead = new SweepOverhead(jvmStart, planning, jobs, CompressLayers.seconds(publishing));
      return new SweepOutcome(sweep.sweepId(), sweep.out(), rows, report, seconds, job.flinkJobId(),
          calibrationBatches, overhead);
    } catch (IOException | RuntimeException e) {
      if (job != null) {
        job.reportEnd();
      }
      throw failure(e, "; no results were published");
    } finally {
      progress.stop();
      try {
        Publisher.discard(staging);
      } catch (UncheckedIOException e) {
        console.println("  warning: " + e.getMessage() + " (" + rootMessage(e) + "); remove it by hand");
      }
      cleanup.unregister();
    }
  }

  /** Use {@code --fresh}: recompute everything, ignoring what an interrupted run of the same sweep finished. */
  public SweepRunner fresh(boolean fresh) {
    return new SweepRunner(console, fresh, evalMemoryBytes);
  }

  /** Native memory each worker's evaluation sessions may take ({@code --eval-memory}); 0: the worker's default. */
  public SweepRunner evalMemory(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("evaluation memory must be >= 0, got " + bytes);
    }
    return new SweepRunner(console, fresh, bytes);
  }

  /**
   * Creates this submission's staging area (an output directory that cannot be written is bad input), removes the
   * staging areas of killed runs, and, with {@code --fresh}, the sweep's resume cache.
   */
  private void prepareOut(PlannedSweep sweep) {
    try {
      for (Path dir = sweep.out(); dir != null; dir = dir.getParent()) {
        if (Files.exists(dir)) {
          if (!Files.isDirectory(dir)) {
            throw new java.nio.file.NotDirectoryException(dir.toString());
          }
          break;
        }
      }
      StagingAreas.create(sweep.staging());
    } catch (IOException e) {
      throw new SpecException("cannot write to the output directory " + sweep.out() + " (" + describe(e)
          + "); choose a writable directory with --out or the spec's 'out'");
    }
    StagingAreas.Removed removed = StagingAreas.removeStale(sweep.out());
    if (removed.areas() > 0) {
      console.printf(java.util.Locale.ROOT, "  removed %d staging area%s left by interrupted runs (%.1f MB)%n",
          removed.areas(), removed.areas() == 1 ? "" : "s", removed.bytes() / 1e6);
    }
    if (fresh) {
      try {
        ResumeCache.clear(sweep.out(), sweep.sweepId());
      } catch (IOException e) {
        throw new SweepFailedException("--fresh: cannot remove the resume cache of " + sweep.sweepId() + " ("
            + rootMessage(e) + ")", e);
      }
    }
  }

  private static String describe(IOException e) {
    if (e instanceof java.nio.file.FileAlreadyExistsException || e instanceof java.nio.file.NotDirectoryException) {
      return ((java.nio.file.FileSystemException) e).getFile() + " is a file, not a directory";
    }
    if (e instanceof java.nio.file.AccessDeniedException denied) {
      return "permission denied: " + denied.getFile();
    }
    if (e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null) {
      return fs.getFile() + ": " + fs.getReason();
    }
    return rootMessage(e);
  }

  private void printReused(PlannedSweep sweep) {
    long compressed = Progress.count(sweep.staging(), ResumeCache.REUSED_COMPRESS);
    long evaluated = Progress.count(sweep.staging(), ResumeCache.REUSED_EVALUATE);
    if (compressed + evaluated > 0) {
      var totals = sweep.totals();
      console.printf("  reused %d of %d compressed layers, %d of %d evaluation batches from an interrupted run"
          + " (--fresh recomputes them)%n", compressed, totals.compressTasks(), evaluated, totals.evaluateBatches());
    }
  }

  private void printPlan(PlannedSweep sweep, Launch launch, int threadsPerTask) {
    var spec = sweep.spec();
    var inventory = sweep.inventory();
    console.printf("bitsweep %s: sweep %s%n", Version.get(), sweep.sweepId());
    console.printf("  model   %s (%d bytes with external data, opset %d, %d layers to compress, %d tensors skipped)%n",
        spec.model(), sweep.plan().modelBytes(), sweep.plan().modelOpset(), inventory.layers().size(), inventory.skipped().size());
    for (SkippedTensor skipped : inventory.skipped()) {
      console.printf("          skip %s %s: %s%n", skipped.name(), skipped.shape(), skipped.reason());
    }
    for (SweepPlanner.LayerSkip skip : sweep.plan().configSkips()) {
      console.printf("          config %s leaves %s %s uncompressed: %s%n", skip.configId(), skip.tensor().name(),
          skip.tensor().shape(), skip.tensor().reason());
    }
    int sequences = sweep.plan().sequenceStarts().size();
    console.printf("  data    %s (%d samples, %s)%n", spec.evalData(), sweep.plan().evalSamples(), sequences == 0
        ? "batches of " + spec.batchSize() : sequences + " sequences, batches of " + spec.batchSize() + " sequences");
    sweep.calibration().ifPresent(calibration -> console.printf(
        "  calib   %s (%d samples, %d layers with input statistics in %d Hessians%s)%s%n", spec.calibrationData(),
        calibration.samples(), calibration.layers().size(), calibration.hessians().size(),
        calibration.captureGroups().size() <= 1 ? ""
            : ", captured in " + calibration.captureGroups().size() + " groups of at most "
                + megabytes(calibration.captureBudgetBytes()) + " MB",
        calibration.cached() ? "; statistics reused from " + calibration.cacheDir() : ""));
    console.printf("  configs %d on runner %s (%sparallelism %d, %d thread%s per task)%n", spec.configs().size(),
        launch.runner(), launch.runner().equals("flink") ? launch.flinkMaster() + ", " : "", launch.parallelism(),
        threadsPerTask, threadsPerTask == 1 ? "" : "s");
  }

  private static long megabytes(long bytes) {
    return (bytes + (1 << 20) - 1) >> 20;
  }

  private static void checkStatisticsCached(CalibrationPlan calibration) {
    List<String> missing = StatisticsCache.missing(Path.of(calibration.cacheDir()), calibration.hessianNames());
    if (!missing.isEmpty()) {
      throw new SweepFailedException("the statistics job finished but " + calibration.cacheDir()
          + " lacks the statistics of " + missing + "; no results were published");
    }
  }

  /** Bad input and failures already worded for people pass unchanged; anything else gets its root cause. */
  private static RuntimeException failure(Exception e, String consequence) {
    if (e instanceof SweepFailedException || e instanceof SpecException || e instanceof ModelException
        || e instanceof Publisher.PublishException) {
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
