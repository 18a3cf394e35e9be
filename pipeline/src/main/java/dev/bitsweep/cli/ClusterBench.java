package dev.bitsweep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bitsweep.cluster.FlinkRest;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.cluster.SyntheticSweep;
import dev.bitsweep.pipeline.Progress;
import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Scaling benchmark on a running Flink session cluster: submits the synthetic wide-MLP sweep once per parallelism
 * and reports, from the cluster's own clock (REST timestamps) and the staging area's progress markers:
 * <ul>
 *   <li>submission: from the client's submit call to the job appearing on the cluster (pipeline translation, job
 *       graph and jar upload);
 *   <li>scheduling: from the job's INITIALIZING to its first task RUNNING;
 *   <li>compression stage: from the first task RUNNING to the last compression marker (sampled every 50 ms).
 * </ul>
 * Client and cluster must share a clock (same machine) for the first figure.
 */
public final class ClusterBench {
  /** One submission's figures, in seconds. */
  public record Result(int parallelism, double submitSeconds, double scheduleSeconds, double compressSeconds,
      double jobSeconds, long compressTasks) {}

  private final PrintStream console;

  public ClusterBench(PrintStream console) {
    this.console = console;
  }

  /** @param threadsPerTask as {@code sweep --threads-per-task}: 0 for a worker's cores divided by its slots */
  public List<Result> run(String flinkMaster, Path workDir, int hidden, Path evalData, List<Integer> parallelisms,
      int threadsPerTask) throws Exception {
    Path spec = SyntheticSweep.write(workDir.resolve("spec"), hidden, evalData);
    FlinkRest rest = new FlinkRest(flinkMaster);
    List<Result> results = new ArrayList<>();
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try {
      for (int parallelism : parallelisms) {
        Path out = workDir.resolve("out-p" + parallelism);
        long submitMillis = System.currentTimeMillis();
        Launch launch =
            Launch.cluster(flinkMaster, parallelism).withThreadsPerTask(threadsPerTask).withOut(out);
        Future<SweepOutcome> sweep = executor.submit(() -> new SweepRunner(console).run(spec, launch));
        long lastCompressMillis = watchCompression(out, sweep);
        SweepOutcome outcome = sweep.get();
        JsonNode job = rest.get("/jobs/" + outcome.flinkJobId());
        long initializing = job.path("timestamps").path("INITIALIZING").asLong();
        long firstTaskRunning = Long.MAX_VALUE;
        for (JsonNode vertex : job.path("vertices")) {
          firstTaskRunning = Math.min(firstTaskRunning, vertex.path("start-time").asLong());
        }
        long tasks = SyntheticSweep.CONFIGS * SyntheticSweep.LAYERS;
        Result result = new Result(parallelism, (initializing - submitMillis) / 1e3,
            (firstTaskRunning - initializing) / 1e3, (lastCompressMillis - firstTaskRunning) / 1e3,
            job.path("duration").asLong() / 1e3, tasks);
        console.println(format(result));
        results.add(result);
      }
    } finally {
      executor.shutdownNow();
    }
    return results;
  }

  public static String format(Result r) {
    return String.format(Locale.ROOT, "parallelism %d: submission %.1f s, scheduling %.1f s, compression stage %.1f s"
        + " (%d tasks), whole job %.1f s", r.parallelism(), r.submitSeconds(), r.scheduleSeconds(),
        r.compressSeconds(), r.compressTasks(), r.jobSeconds());
  }

  /** Polls the sweep's progress markers; returns when the last compression task was seen finished. */
  private static long watchCompression(Path out, Future<?> sweep) throws Exception {
    long total = SyntheticSweep.CONFIGS * SyntheticSweep.LAYERS;
    while (!sweep.isDone()) {
      Path stagingRoot = out.resolve(".staging");
      if (Files.isDirectory(stagingRoot)) {
        try (Stream<Path> runs = Files.list(stagingRoot)) {
          for (Path staging : runs.toList()) {
            if (Progress.count(staging, "compress") >= total) {
              return System.currentTimeMillis();
            }
          }
        } catch (IOException | UncheckedIOException e) {
          // the staging area is being published
        }
      }
      Thread.sleep(50);
    }
    sweep.get();
    throw new IllegalStateException("the sweep finished before all " + total + " compression markers were seen");
  }
}
