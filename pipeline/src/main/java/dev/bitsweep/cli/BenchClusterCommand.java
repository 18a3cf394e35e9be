package dev.bitsweep.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench-cluster", mixinStandardHelpOptions = true,
    description = {"Scaling benchmark on a running Flink session cluster on this machine (deploy/bench-cluster.sh starts",
        "one): submits a synthetic 64-H-H-H-10 MLP sweep (19 configs x 4 layers) once per parallelism and prints the",
        "submission time (translation + jar upload), scheduling time and compression-stage wall time."})
final class BenchClusterCommand implements Callable<Integer> {
  @Option(names = "--flink-master", required = true, paramLabel = "HOST:PORT", description = "The cluster's REST address.")
  String flinkMaster;

  @Option(names = "--work", required = true, paramLabel = "DIR", description = "Where the model, spec and results go.")
  Path work;

  @Option(names = "--hidden", defaultValue = "2048", description = "H, the hidden width (default 2048).")
  int hidden;

  @Option(names = "--parallelism", split = ",", defaultValue = "1,2", description = "Parallelisms to run (default 1,2).")
  List<Integer> parallelisms;

  @Option(names = "--threads-per-task", paramLabel = "N", defaultValue = "0",
      description = "Threads per compression task, as for sweep (default 0: the TaskManager's cores divided by its slots).")
  int threadsPerTask;

  @Option(names = "--eval-data", defaultValue = "calibration-data/digits/eval",
      description = "The digits eval directory (default calibration-data/digits/eval).")
  Path evalData;

  @Override
  public Integer call() throws Exception {
    List<ClusterBench.Result> results = new ClusterBench(System.out).run(flinkMaster, work.toAbsolutePath(), hidden,
        evalData, parallelisms, threadsPerTask);
    System.out.println();
    results.forEach(r -> System.out.println(ClusterBench.format(r)));
    if (results.size() >= 2) {
      System.out.printf(java.util.Locale.ROOT, "compression-stage speedup p%d/p%d: %.2fx%n",
          results.get(results.size() - 1).parallelism(), results.get(0).parallelism(),
          results.get(0).compressSeconds() / results.get(results.size() - 1).compressSeconds());
    }
    return ExitCodes.OK;
  }
}
