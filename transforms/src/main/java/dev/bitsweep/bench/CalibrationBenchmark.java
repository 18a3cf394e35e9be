package dev.bitsweep.bench;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.cblas_sgemm;

import dev.bitsweep.calibrate.Gptq;
import dev.bitsweep.calibrate.GptqConfig;
import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.calibrate.MagnitudeBaseline;
import dev.bitsweep.calibrate.OutputError;
import dev.bitsweep.calibrate.RoundToNearest;
import dev.bitsweep.calibrate.SparseGpt;
import dev.bitsweep.calibrate.SparseGptConfig;
import dev.bitsweep.compress.WeightMatrix;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Times GPTQ (4 bit, group 128) and SparseGPT (50 %) on a synthetic full-rank layer and reports their output error
 * relative to round-to-nearest and magnitude pruning.
 *
 * <p>Layer: W is N x N standard Gaussian; the calibration inputs are T tokens of N features, H = XᵀX accumulated in
 * float64. Features: {@code mixed} (default) X = Z·A/√N with Z and A standard Gaussian — correlated features, full
 * rank; {@code iid} X = Z (with T = 2N still a full-rank Wishart H, but with weak correlations GPTQ gains less);
 * {@code factor} half-scale noise plus N/8 shared directions (strong correlations).
 *
 * <p>Wall seconds depend on what else runs on the machine; process CPU seconds are reported beside them (on an idle
 * 2-core machine, wall ≈ CPU / 2 for the parallel parts).
 *
 * <p>Usage: {@code CalibrationBenchmark [--size N] [--tokens T] [--features mixed|iid|factor] [--json]}.
 */
public final class CalibrationBenchmark {
  private CalibrationBenchmark() {}

  public static void main(String[] args) {
    int size = 4096;
    int tokens = 8192;
    boolean json = false;
    String features = "mixed";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--size" -> size = Integer.parseInt(args[++i]);
        case "--tokens" -> tokens = Integer.parseInt(args[++i]);
        case "--json" -> json = true;
        case "--features" -> features = args[++i];
        default -> {
          System.err.println("unknown argument " + args[i]
              + "; usage: CalibrationBenchmark [--size N] [--tokens T] [--features mixed|iid|factor] [--json]");
          System.exit(2);
        }
      }
    }
    warmUp();
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("size", size);
    results.put("tokens", tokens);
    results.put("features", features);
    results.put("threads", Runtime.getRuntime().availableProcessors());
    results.put("load_average", OS.getSystemLoadAverage());

    WeightMatrix w = new WeightMatrix(gaussian(size * size, 1), size, size);
    float[] x = switch (features) {
      case "iid" -> gaussian(tokens * size, 2);
      case "mixed" -> mixedTokens(tokens, size);
      case "factor" -> factorTokens(tokens, size);
      default -> throw new IllegalArgumentException("--features must be mixed, iid or factor, got " + features);
    };
    long start = System.nanoTime();
    HessianAccumulator accumulator = HessianAccumulator.forMatMul("bench", size);
    accumulator.addRows(x, tokens);
    double[] h = accumulator.toStatistics().hessian();
    results.put("hessian_seconds", seconds(start));
    x = null;

    GptqConfig gptqConfig = new GptqConfig(4, 128, false, 128, 0.01, false);
    start = System.nanoTime();
    long startCpu = OS.getProcessCpuTime();
    Gptq.Result gptq = new Gptq(gptqConfig).quantize("bench", w, h);
    results.put("gptq_seconds", seconds(start));
    results.put("gptq_cpu_seconds", cpuSeconds(startCpu));
    double gptqError = OutputError.of(w, gptq.weights().decompress(), h);
    double rtnError = OutputError.of(w, RoundToNearest.quantize(w, 4, 128, false).decompress(), h);
    results.put("gptq_output_error", gptqError);
    results.put("rtn_output_error", rtnError);
    results.put("gptq_over_rtn", gptqError / rtnError);

    start = System.nanoTime();
    startCpu = OS.getProcessCpuTime();
    SparseGpt.Result sparse = new SparseGpt(SparseGptConfig.unstructured(0.5)).prune("bench", w, h);
    results.put("sparsegpt_seconds", seconds(start));
    results.put("sparsegpt_cpu_seconds", cpuSeconds(startCpu));
    double sparseError = OutputError.of(w, sparse.weights().decompress(), h);
    double magnitudeError = OutputError.of(w, MagnitudeBaseline.prune(w, 0.5), h);
    results.put("sparsegpt_output_error", sparseError);
    results.put("magnitude_output_error", magnitudeError);
    results.put("sparsegpt_over_magnitude", sparseError / magnitudeError);

    if (json) {
      StringBuilder out = new StringBuilder("{");
      results.forEach((k, v) -> out.append(out.length() > 1 ? ", " : "").append('"').append(k).append("\": ")
          .append(v instanceof Double d ? String.format(Locale.ROOT, "%.6g", d)
              : v instanceof String text ? '"' + text + '"' : v));
      System.out.println(out.append('}'));
    } else {
      results.forEach((k, v) -> System.out.println(String.format(Locale.ROOT, "%-26s %s", k,
          v instanceof Double d ? String.format(Locale.ROOT, "%.4g", d) : v)));
    }
  }

  /** Loads the native BLAS/LAPACK and JIT-compiles the loops so the timings show steady-state speed. */
  private static void warmUp() {
    int n = 256;
    WeightMatrix w = new WeightMatrix(gaussian(n * n, 3), n, n);
    HessianAccumulator accumulator = HessianAccumulator.forMatMul("warm-up", n);
    accumulator.addRows(gaussian(2 * n * n, 4), 2 * n);
    double[] h = accumulator.toStatistics().hessian();
    for (int i = 0; i < 3; i++) {
      new Gptq(new GptqConfig(4, 128, false, 128, 0.01, false)).quantize(w, h);
      new SparseGpt(SparseGptConfig.unstructured(0.5)).prune(w, h);
    }
  }

  private static float[] gaussian(int count, long seed) {
    float[] values = new float[count];
    int chunk = 1 << 20;
    IntStream.range(0, (count + chunk - 1) / chunk).parallel().forEach(c -> {
      SplittableRandom random = new SplittableRandom(seed * 1_000_003L + c);
      for (int i = c * chunk, end = Math.min(count, (c + 1) * chunk); i < end; i++) {
        values[i] = (float) random.nextGaussian();
      }
    });
    return values;
  }

  /** X = Z·A/√N with Z [T, N] and A [N, N] standard Gaussian: correlated features, full rank. */
  private static float[] mixedTokens(int tokens, int dim) {
    dev.bitsweep.nativemath.NativeMathCheck.ensure();
    float[] z = gaussian(tokens * dim, 2);
    float[] a = gaussian(dim * dim, 8);
    float[] x = new float[tokens * dim];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, tokens, dim, dim, (float) (1 / Math.sqrt(dim)), z, dim, a,
        dim, 0f, x, dim);
    return x;
  }

  /** Each token: half-scale private noise plus a mix of N/8 shared random directions. */
  private static float[] factorTokens(int tokens, int dim) {
    int factors = Math.max(1, dim / 8);
    float[] directions = gaussian(factors * dim, 5);
    float[] mixing = gaussian(tokens * factors, 6);
    float[] x = gaussian(tokens * dim, 7);
    for (int i = 0; i < x.length; i++) {
      x[i] *= 0.5f;
    }
    IntStream.range(0, tokens).parallel().forEach(t -> {
      for (int f = 0; f < factors; f++) {
        float a = mixing[t * factors + f] / (float) Math.sqrt(factors);
        for (int d = 0; d < dim; d++) {
          x[t * dim + d] += a * directions[f * dim + d];
        }
      }
    });
    return x;
  }

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  private static double cpuSeconds(long startCpu) {
    return (OS.getProcessCpuTime() - startCpu) / 1e9;
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }
}
