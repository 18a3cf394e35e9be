package dev.bitsweep.cli;

import dev.bitsweep.cluster.Launch;
import dev.bitsweep.pipeline.Report;
import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the sweep a YAML spec describes and publishes its results under the output directory:",
      "  runs/sweep_id=<id>/*.parquet    one row per config",
      "  layers/sweep_id=<id>/*.parquet  one row per (config, layer)",
      "  packages/<config_id>/model.onnx + manifest.json",
      "  reports/<sweep_id>.md",
      "Results are published only when the whole job succeeded; rerunning the same sweep replaces them.",
      "On a Flink cluster (--flink-master HOST:PORT) the job jar is uploaded, the job id and web UI are printed, and",
      "every path in the spec must be readable by every TaskManager (shared filesystem; see deploy/README.md).",
      "Exit codes: 0 done, 1 the job or some configs failed, 2 bad input."
    })
final class SweepCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "SPEC", description = "The sweep spec (YAML), e.g. calibration-data/digits/sweep.yaml")
  Path spec;

  @Option(names = "--out", paramLabel = "DIR", description = "Where results go (overrides the spec's 'out').")
  Path out;

  @Option(names = "--runner", paramLabel = "RUNNER", defaultValue = "flink",
      description = "flink (default: embedded Flink, or a cluster with --flink-master) or direct (Beam DirectRunner).")
  String runner;

  @Option(names = "--flink-master", paramLabel = "HOST:PORT", defaultValue = "[local]",
      description = "Flink REST address of a session cluster; [local] (default) runs an embedded Flink.")
  String flinkMaster;

  @Option(names = "--parallelism", paramLabel = "N", defaultValue = "2", description = "Parallel workers (default 2).")
  int parallelism;

  @Option(names = "--threads-per-task", paramLabel = "N", defaultValue = "0",
      description = "Threads one compression task may use (default 0: a worker's cores divided by its slots, or, embedded,"
          + " this machine's cores divided by the parallelism).")
  int threadsPerTask;

  @Option(names = "--files-to-stage", paramLabel = "JAR", split = ",",
      description = "Job jar(s) to upload to a Flink cluster (default: the bitsweep job jar when --flink-master is a cluster).")
  List<String> filesToStage;

  @Override
  public Integer call() {
    Launch launch = new Launch(runner, flinkMaster, parallelism, threadsPerTask, out,
        filesToStage == null ? List.of() : filesToStage);
    SweepOutcome outcome = new SweepRunner(System.out).run(spec, launch);
    System.out.println();
    System.out.print(Report.table(outcome.runs()));
    System.out.printf(Locale.ROOT, "%nsweep %s finished in %.1f s: %d configs, %d failed%n", outcome.sweepId(),
        outcome.seconds(), outcome.runs().size(), outcome.failedConfigs());
    System.out.println(outcome.overhead().format());
    System.out.println("results:  " + outcome.out().resolve("runs") + " and " + outcome.out().resolve("layers")
        + " (partition sweep_id=" + outcome.sweepId() + ")");
    System.out.println("packages: " + outcome.out().resolve("packages"));
    System.out.println("report:   " + outcome.report());
    if (outcome.flinkJobId() != null) {
      System.out.println("flink job: " + outcome.flinkJobId() + " on " + flinkMaster);
    }
    outcome.runs().stream().filter(r -> r.error() != null)
        .forEach(r -> System.out.println("failed " + r.configId() + ": " + r.error()));
    return outcome.failedConfigs() == 0 ? ExitCodes.OK : ExitCodes.FAILED;
  }
}
