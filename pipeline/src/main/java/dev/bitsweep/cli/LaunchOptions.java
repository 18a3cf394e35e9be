package dev.bitsweep.cli;

import dev.bitsweep.cluster.Launch;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** Where results go and where and how the jobs run: the options {@code sweep} and {@code search} share. */
final class LaunchOptions {
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

  Launch launch() {
    return new Launch(runner, flinkMaster, parallelism, threadsPerTask, out,
        filesToStage == null ? List.of() : filesToStage);
  }
}
