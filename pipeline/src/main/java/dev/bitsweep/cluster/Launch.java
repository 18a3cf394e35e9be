package dev.bitsweep.cluster;

import dev.bitsweep.spec.SpecException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where and how a sweep's jobs run: the runner, the Flink master, parallelism, the thread budget of a compression
 * task, an output directory overriding the spec's, and the jars to upload to a cluster. On a cluster, the cluster's
 * restart strategy applies.
 *
 * @param threadsPerTask threads one compression task may use; {@link #AUTO_THREADS} chooses a worker's share
 */
public record Launch(String runner, String flinkMaster, int parallelism, int threadsPerTask, Path outOverride,
    List<String> filesToStage) {
  /**
   * The default thread budget of a task: the cores of a worker divided among its parallel slots, at least 1 (on a
   * cluster, the smallest share over its TaskManagers; embedded, this machine's cores over the parallelism).
   */
  public static final int AUTO_THREADS = 0;

  public Launch {
    if (!runner.equals("flink") && !runner.equals("direct")) {
      throw new SpecException("--runner must be flink or direct, got '" + runner + "'");
    }
    if (parallelism < 1) {
      throw new SpecException("--parallelism must be >= 1, got " + parallelism);
    }
    if (threadsPerTask < 0) {
      throw new SpecException("--threads-per-task must be >= 1 (or 0 for one share of a worker's cores), got "
          + threadsPerTask);
    }
    filesToStage = List.copyOf(filesToStage);
  }

  /** Embedded Flink (an in-process MiniCluster) at parallelism 2. */
  public static Launch embedded() {
    return new Launch("flink", "[local]", 2, AUTO_THREADS, null, List.of());
  }

  /** A Flink session cluster at {@code restAddress} (HOST:PORT); the job jar is found by {@link JobJar}. */
  public static Launch cluster(String restAddress, int parallelism) {
    return new Launch("flink", restAddress, parallelism, AUTO_THREADS, null, List.of());
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

  public boolean onCluster() {
    return runner.equals("flink") && !FlinkRest.isEmbedded(flinkMaster);
  }

  /** The threads each compression task gets: as given, or the per-slot share of a worker's cores. */
  public int resolveThreadsPerTask() {
    if (threadsPerTask > 0) {
      return threadsPerTask;
    }
    if (onCluster()) {
      try {
        return new FlinkRest(flinkMaster).coresPerSlot();
      } catch (UncheckedIOException e) {
        throw new JobFailedException("cannot reach the Flink cluster at " + flinkMaster + " (" + e.getMessage()
            + "); is it running? (deploy/cluster.sh status) Nothing was submitted.", e);
      }
    }
    return Math.max(1, Runtime.getRuntime().availableProcessors() / parallelism);
  }

  /** What is uploaded to the cluster: the given jars, or the bitsweep job jar. */
  List<String> stagedFiles() {
    if (filesToStage.isEmpty()) {
      return List.of(JobJar.locate().toString());
    }
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
}
