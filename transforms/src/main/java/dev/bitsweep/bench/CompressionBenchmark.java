package dev.bitsweep.bench;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.LinearQuantizeConfig;
import dev.bitsweep.compress.PalettizeConfig;
import dev.bitsweep.compress.PruneConfig;
import dev.bitsweep.compress.WeightError;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.methods.Methods;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Times the post-training compressors on one N x N Gaussian fp32 weight (fixed seed): the median of
 * {@value #RUNS} runs after a warm-up, with the weight SNR and payload bits per weight of the result.
 *
 * <p>{@code --cpu} adds the median process CPU seconds per run (all threads), a figure that a shared, loaded
 * machine disturbs less than wall time.
 *
 * <pre>java -cp ... dev.bitsweep.bench.CompressionBenchmark [--size N] [--json] [--runs R] [--cpu] [--only CONFIG]</pre>
 */
public final class CompressionBenchmark {
  private static final int RUNS = 5;
  private static final long SEED = 20261125L;

  private CompressionBenchmark() {}

  /** The benchmarked configs, by the name printed for them. */
  public static Map<String, CompressionConfig> configs() {
    Map<String, CompressionConfig> configs = new LinkedHashMap<>();
    configs.put("kmeans4_pgc_g16", PalettizeConfig.builder().nbits(4).perGroupedChannel(16).build());
    configs.put("kmeans4_per_tensor", PalettizeConfig.kmeans(4));
    configs.put("kmeans6_per_tensor", PalettizeConfig.kmeans(6));
    configs.put("kmeans2_pgc_g16", PalettizeConfig.builder().nbits(2).perGroupedChannel(16).build());
    configs.put("int8_per_channel", LinearQuantizeConfig.builder().build());
    configs.put("int4_per_block32", LinearQuantizeConfig.builder()
        .dtype(dev.bitsweep.compress.QuantDtype.INT4).perBlock(32).build());
    configs.put("prune_magnitude_50", PruneConfig.magnitude(0.5));
    return configs;
  }

  /** N x N weights drawn from N(0, 1) with a fixed seed. */
  public static WeightMatrix gaussian(int rows, int cols, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) gaussian(random);
    }
    return new WeightMatrix(values, rows, cols);
  }

  private static double gaussian(SplittableRandom random) {
    // Marsaglia polar method: SplittableRandom has no nextGaussian on Java 17
    while (true) {
      double u = 2 * random.nextDouble() - 1;
      double v = 2 * random.nextDouble() - 1;
      double s = u * u + v * v;
      if (s > 0 && s < 1) {
        return u * Math.sqrt(-2 * Math.log(s) / s);
      }
    }
  }

  public static void main(String[] args) {
    int size = 4096;
    int runs = RUNS;
    boolean json = false;
    boolean cpu = false;
    List<String> only = new ArrayList<>();
    for (int a = 0; a < args.length; a++) {
      switch (args[a]) {
        case "--size" -> size = Integer.parseInt(requireValue(args, ++a, "--size"));
        case "--runs" -> runs = Integer.parseInt(requireValue(args, ++a, "--runs"));
        case "--only" -> only.add(requireValue(args, ++a, "--only"));
        case "--json" -> json = true;
        case "--cpu" -> cpu = true;
        case "--help", "-h" -> {
          System.out.println("usage: CompressionBenchmark [--size N (default 4096)] [--json] [--runs R (default "
              + RUNS + ", at least 3)] [--cpu] [--only CONFIG]...");
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[a] + "; try --help");
      }
    }
    if (size < 1 || runs < 3) {
      throw new IllegalArgumentException("--size must be >= 1 and --runs >= 3");
    }
    WeightMatrix weights = gaussian(size, size, SEED);
    for (Map.Entry<String, CompressionConfig> entry : configs().entrySet()) {
      if (!only.isEmpty() && !only.contains(entry.getKey())) {
        continue;
      }
      CompressionConfig config = entry.getValue();
      CompressedWeights result = Methods.ALL.compress(config, weights).weights();
      double[] seconds = new double[runs];
      double[] cpuSeconds = new double[runs];
      for (int run = 0; run < runs; run++) {
        result = null; // let the previous result go before timing the next
        long startCpu = processCpuNanos();
        long start = System.nanoTime();
        result = Methods.ALL.compress(config, weights).weights();
        seconds[run] = (System.nanoTime() - start) / 1e9;
        cpuSeconds[run] = (processCpuNanos() - startCpu) / 1e9;
      }
      Arrays.sort(seconds);
      Arrays.sort(cpuSeconds);
      double median = seconds[runs / 2];
      String cpuJson = cpu ? String.format(Locale.ROOT, ",\"cpu_seconds\":%.4f", cpuSeconds[runs / 2]) : "";
      String cpuText = cpu ? String.format(Locale.ROOT, " %8.4f cpu s", cpuSeconds[runs / 2]) : "";
      double snr = WeightError.snrDb(weights, result.decompress());
      double bits = WeightError.bitsPerWeight(result);
      if (json) {
        System.out.printf(Locale.ROOT, "{\"config\":\"%s\",\"seconds\":%.4f,\"snr_db\":%.4f,\"bits_per_weight\":%.4f%s}%n",
            entry.getKey(), median, snr, bits, cpuJson);
      } else {
        System.out.printf(Locale.ROOT, "%-20s %8.4f s %9.4f dB %7.4f bits/weight%s%n", entry.getKey(), median, snr, bits,
            cpuText);
      }
    }
  }

  private static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0L;
  }

  private static String requireValue(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[index];
  }
}
