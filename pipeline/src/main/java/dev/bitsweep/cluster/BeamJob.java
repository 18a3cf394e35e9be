package dev.bitsweep.cluster;

import java.io.PrintStream;
import java.util.function.Consumer;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * One Beam job: its runner options from a {@link Launch}, submission, and waiting for it to finish; on a cluster the
 * job is followed on the cluster's REST API (found by its name, which must be unique on the cluster).
 */
public final class BeamJob {
  private final Launch launch;
  private final String name;
  private final PrintStream console;
  private final JobWatcher watcher;

  public BeamJob(Launch launch, String name, PrintStream console) {
    this.launch = launch;
    this.name = name;
    this.console = console;
    this.watcher = launch.onCluster() ? new JobWatcher(new FlinkRest(launch.flinkMaster()), name, console) : null;
  }

  /** Builds, submits and waits for the job; anything but DONE is a {@link JobFailedException}. */
  public PipelineResult run(Consumer<Pipeline> build) {
    Pipeline pipeline = Pipeline.create(options());
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
      throw new JobFailedException("the job " + name + " ended in state " + state + "; no results were published");
    }
    return result;
  }

  /** The Flink job id on a cluster, once seen; null when embedded or not seen. */
  public String flinkJobId() {
    return watcher == null ? null : watcher.jobId().orElse(null);
  }

  /** After a failure: stops following the job and says where it ended. */
  public void reportEnd() {
    if (watcher == null) {
      return;
    }
    watcher.stop();
    if (watcher.jobId().isPresent()) {
      console.printf("  flink job %s ended %s; see %s%n", watcher.jobId().get(),
          watcher.lastState().isEmpty() ? "without a state" : watcher.lastState(), launch.flinkMaster());
    }
  }

  /** The attempted value of a counter summed over its steps; -1 when the runner reports no metrics. */
  public static long counter(PipelineResult result, Class<?> namespace, String name) {
    try {
      var query = result.metrics().queryMetrics(MetricsFilter.builder()
          .addNameFilter(MetricNameFilter.named(namespace, name)).build());
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

  PipelineOptions options() {
    if (launch.runner().equals("direct")) {
      PipelineOptions options = PipelineOptionsFactory.create();
      options.setRunner(DirectRunner.class);
      DirectOptions direct = options.as(DirectOptions.class);
      direct.setTargetParallelism(launch.parallelism());
      direct.setEnforceImmutability(true);
      direct.setEnforceEncodability(true);
      return options;
    }
    FlinkPipelineOptions options = PipelineOptionsFactory.as(FlinkPipelineOptions.class);
    options.setRunner(FlinkRunner.class);
    options.setFlinkMaster(launch.flinkMaster());
    options.setParallelism(launch.parallelism());
    options.setJobName(name);
    if (launch.onCluster()) {
      options.setFilesToStage(launch.stagedFiles());
    } else if (!launch.filesToStage().isEmpty()) {
      options.setFilesToStage(launch.filesToStage());
    }
    return options;
  }
}
