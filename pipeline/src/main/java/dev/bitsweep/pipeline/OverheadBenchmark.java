package dev.bitsweep.pipeline;

import dev.bitsweep.cluster.Launch;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The fixed cost of a sweep on embedded Flink: a trivial one-config sweep (int8 per channel of the model in a
 * directory holding {@code model.onnx} and {@code eval/}, agreement task, one eval batch) run several times in one
 * JVM; each run's phases from {@link SweepOverhead}. The first run also pays the JVM's start and class loading.
 */
public final class OverheadBenchmark {
  private OverheadBenchmark() {}

  public static String run(Path modelDir, Path work, int runs, boolean quiet) {
    Path model = modelDir.resolve("model.onnx").toAbsolutePath();
    Path eval = modelDir.resolve("eval").toAbsolutePath();
    if (!Files.isRegularFile(model) || !Files.isDirectory(eval)) {
      throw new IllegalArgumentException(modelDir + " must hold model.onnx and eval/ (e.g. calibration-data/digits)");
    }
    List<SweepOverhead> phases = new ArrayList<>();
    List<Double> cpu = new ArrayList<>();
    try {
      Path spec = Files.createDirectories(work).resolve("overhead.yaml");
      Files.writeString(spec, String.join("\n",
          "name: overhead",
          "model: " + model,
          "task: agreement",
          "eval_data: " + eval,
          "batch_size: 100000",
          "configs:",
          "  - id: int8",
          "    method: linear_quantize",
          "    mode: linear_symmetric",
          "    dtype: int8",
          "    granularity: per_channel",
          ""));
      PrintStream console = quiet ? new PrintStream(OutputStream.nullOutputStream()) : System.out;
      for (int i = 0; i < runs; i++) {
        long cpuBefore = processCpuNanos();
        SweepOutcome outcome = new SweepRunner(console).run(spec, Launch.embedded().withOut(work.resolve("out")));
        phases.add(outcome.overhead());
        cpu.add((processCpuNanos() - cpuBefore) / 1e9);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < phases.size(); i++) {
      SweepOverhead p = phases.get(i);
      text.append(String.format(Locale.ROOT, "run %d: jvm_start %.2f s, planning %.2f s, job %.2f s, publish %.2f s,"
          + " total %.2f s (process CPU %.2f s)%n", i + 1, p.jvmStartSeconds(), p.planningSeconds(), p.jobSeconds(),
          p.publishSeconds(), p.fixedSeconds() + p.jobSeconds(), cpu.get(i)));
    }
    if (phases.size() > 1) {
      List<SweepOverhead> warm = phases.subList(1, phases.size());
      text.append(String.format(Locale.ROOT, "warm runs (median of %d): planning %.2f s, job %.2f s, publish %.2f s,"
          + " total %.2f s; load average %s%n", warm.size(),
          median(warm.stream().mapToDouble(SweepOverhead::planningSeconds).toArray()),
          median(warm.stream().mapToDouble(SweepOverhead::jobSeconds).toArray()),
          median(warm.stream().mapToDouble(SweepOverhead::publishSeconds).toArray()),
          median(warm.stream().mapToDouble(p -> p.fixedSeconds() + p.jobSeconds()).toArray()), loadAverage()));
    }
    return text.toString();
  }

  /** CPU time of this process (all threads), which load from other processes does not inflate as it does wall time. */
  private static long processCpuNanos() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
        : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim().split(" ", 4)[0];
    } catch (IOException e) {
      return String.format(Locale.ROOT, "%.2f",
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }
}
