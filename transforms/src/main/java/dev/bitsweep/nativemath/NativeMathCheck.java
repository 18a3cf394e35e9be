package dev.bitsweep.nativemath;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Checks once per JVM that the native BLAS/LAPACK routines bitsweep calls compute correct numbers on this CPU: each
 * routine runs on small known matrices, with the argument pattern bitsweep uses, and is compared with plain Java.
 *
 * <p>Why: an OpenBLAS kernel picked for a CPU it was not written for gives garbage without any error (OpenBLAS
 * 0.3.19's dpotrf on Intel Sapphire Rapids returned info 33 on a well-conditioned matrix). A wrong kernel must stop
 * the job with a message that says which routine, which CPU and what to do, never produce wrong results.
 *
 * <p>Call {@link #ensure()} before the first native call of an algorithm: the first call runs the check (a few
 * milliseconds), later calls cost one volatile read. A failure is remembered and thrown again on every call.
 */
public final class NativeMathCheck {
  /** Every native routine bitsweep calls; a test keeps this list in step with the sources. */
  public static final List<String> ROUTINES =
      List.of("cblas_sgemm", "cblas_dgemm", "cblas_dsyrk", "LAPACKE_dpotrf", "LAPACKE_dtrtri");

  private static volatile boolean verified;
  private static volatile String failure;

  private NativeMathCheck() {}

  /** One routine's result: its name, the largest error relative to the reference's scale, and the time taken. */
  public record RoutineResult(String routine, double relativeError, double tolerance, double millis) {}

  /** Runs the check on OpenBLAS the first time; throws {@link NativeMathError} if any routine computes wrongly. */
  public static void ensure() {
    if (verified) {
      return;
    }
    synchronized (NativeMathCheck.class) {
      if (failure != null) {
        throw new NativeMathError(failure);
      }
      if (!verified) {
        try {
          verify(OpenBlasRoutines.INSTANCE);
        } catch (NativeMathError e) {
          failure = e.getMessage();
          throw e;
        }
        verified = true;
      }
    }
  }

  /**
   * Checks every routine of {@code routines} against plain Java.
   *
   * @return one result per entry of {@link #ROUTINES}, in that order
   * @throws NativeMathError naming the first routine that disagrees, the CPU and the OpenBLAS build
   */
  public static List<RoutineResult> verify(NativeRoutines routines) {
    List<RoutineResult> results = new ArrayList<>();
    results.add(checkSgemm(routines));
    results.add(checkDgemm(routines));
    results.add(checkDsyrk(routines));
    int n = 256; // the size at which OpenBLAS 0.3.19's dpotrf failed on Sapphire Rapids
    double[] spd = spd(n, new Random(14));
    double[] upper = choleskyUpperColumnMajor(spd, n);
    results.add(checkDpotrf(routines, spd, upper, n));
    results.add(checkDtrtri(routines, upper, n));
    return results;
  }

  // later (m x n) -= Aᵀ (m x k)ᵀ... as TransposedColumns.propagate: C = -Aᵀ B + C, A k x m, B k x n, row-major
  private static RoutineResult checkSgemm(NativeRoutines routines) {
    long start = System.nanoTime();
    int m = 150;
    int n = 130;
    int k = 128;
    Random random = new Random(11);
    float[] a = randomFloats(random, k * m);
    float[] b = randomFloats(random, k * n);
    float[] c = randomFloats(random, m * n);
    double[] expected = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double sum = c[i * n + j];
        for (int p = 0; p < k; p++) {
          sum -= (double) a[p * m + i] * b[p * n + j];
        }
        expected[i * n + j] = sum;
      }
    }
    routines.sgemmTransNoTrans(m, n, k, -1f, a, b, 1f, c);
    double[] actual = new double[c.length];
    for (int i = 0; i < c.length; i++) {
      actual[i] = c[i];
    }
    return compare("cblas_sgemm", "matrix product, row-major, Aᵀ·B, " + m + "x" + k + " by " + k + "x" + n,
        expected, actual, 1e-4, start);
  }

  // C = A B, row-major, as OutputError
  private static RoutineResult checkDgemm(NativeRoutines routines) {
    long start = System.nanoTime();
    int m = 160;
    int n = 136;
    int k = 144;
    Random random = new Random(12);
    double[] a = randomDoubles(random, m * k);
    double[] b = randomDoubles(random, k * n);
    double[] expected = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int p = 0; p < k; p++) {
        double aip = a[i * k + p];
        for (int j = 0; j < n; j++) {
          expected[i * n + j] += aip * b[p * n + j];
        }
      }
    }
    double[] c = new double[m * n];
    routines.dgemmNoTransNoTrans(m, n, k, a, b, c);
    return compare("cblas_dgemm", "matrix product, row-major, A·B, " + m + "x" + k + " by " + k + "x" + n,
        expected, c, 1e-10, start);
  }

  // upper triangle of Xᵀ X, X k x n row-major, as HessianAccumulator
  private static RoutineResult checkDsyrk(NativeRoutines routines) {
    long start = System.nanoTime();
    int n = 144;
    int k = 200;
    Random random = new Random(13);
    double[] x = randomDoubles(random, k * n);
    double[] expected = new double[n * n];
    for (int r = 0; r < k; r++) {
      for (int i = 0; i < n; i++) {
        double xi = x[r * n + i];
        for (int j = i; j < n; j++) {
          expected[i * n + j] += xi * x[r * n + j];
        }
      }
    }
    double[] c = new double[n * n];
    routines.dsyrkUpperTrans(n, k, x, c);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < i; j++) {
        c[i * n + j] = 0; // below the diagonal is not part of the result
      }
    }
    return compare("cblas_dsyrk", "rank-k update, row-major, upper, Xᵀ·X, " + k + "x" + n, expected, c, 1e-10, start);
  }

  // Cholesky A = Uᵀ U of an SPD matrix, column-major upper, as InverseHessianFactor
  private static RoutineResult checkDpotrf(NativeRoutines routines, double[] spd, double[] expected, int n) {
    long start = System.nanoTime();
    double[] work = spd.clone();
    int info = routines.dpotrfUpper(n, work);
    String what = "Cholesky factorization, column-major upper, " + n + "x" + n + " well-conditioned SPD matrix";
    if (info != 0) {
      throw new NativeMathError(message("LAPACKE_dpotrf", what, "returned info " + info + " (expected 0)"));
    }
    zeroBelowDiagonalColumnMajor(work, n);
    return compare("LAPACKE_dpotrf", what, expected, work, 1e-9, start);
  }

  // inverse of an upper triangular non-unit matrix, column-major, as InverseHessianFactor
  private static RoutineResult checkDtrtri(NativeRoutines routines, double[] upper, int n) {
    long start = System.nanoTime();
    double[] expected = upperInverseColumnMajor(upper, n);
    double[] work = upper.clone();
    int info = routines.dtrtriUpper(n, work);
    String what = "triangular inverse, column-major upper non-unit, " + n + "x" + n;
    if (info != 0) {
      throw new NativeMathError(message("LAPACKE_dtrtri", what, "returned info " + info + " (expected 0)"));
    }
    zeroBelowDiagonalColumnMajor(work, n);
    return compare("LAPACKE_dtrtri", what, expected, work, 1e-9, start);
  }

  private static RoutineResult compare(String routine, String what, double[] expected, double[] actual,
      double tolerance, long startNanos) {
    double scale = 0;
    for (double v : expected) {
      scale = Math.max(scale, Math.abs(v));
    }
    double worst = 0;
    int worstAt = 0;
    for (int i = 0; i < expected.length; i++) {
      double error = Math.abs(actual[i] - expected[i]) / scale;
      if (!(error <= worst)) { // NaN counts as the worst
        worst = Double.isNaN(error) ? Double.POSITIVE_INFINITY : error;
        worstAt = i;
      }
    }
    if (!(worst <= tolerance)) {
      throw new NativeMathError(message(routine, what, String.format(
          "differs from plain Java by %.3g relative to the largest value (tolerance %.0g; element %d is %s, expected %s)",
          worst, tolerance, worstAt, actual[worstAt], expected[worstAt])));
    }
    return new RoutineResult(routine, worst, tolerance, (System.nanoTime() - startNanos) / 1e6);
  }

  static String message(String routine, String what, String problem) {
    String coretype = System.getenv("OPENBLAS_CORETYPE");
    return "native math self-check failed: " + routine + " (" + what + ") " + problem + ". CPU: " + CpuInfo.describe()
        + "; BLAS: " + OpenBlasRoutines.describe()
        + (coretype == null ? "" : " with OPENBLAS_CORETYPE=" + coretype)
        + ". bitsweep stopped rather than compute wrong numbers. What to do: run the workers with the environment "
        + "variable OPENBLAS_CORETYPE=Haswell (a kernel that is correct on every x86-64 CPU with AVX2), check that "
        + "`mvn dependency:tree -Dincludes=org.bytedeco` shows openblas 0.3.31-1.5.13 (an older OpenBLAS on the "
        + "classpath predates this CPU), and report this message with the CPU model to the bitsweep maintainers";
  }

  /**
   * A symmetric matrix with 2 on the diagonal and off-diagonal values in (-1/n, 1/n): by Gershgorin its eigenvalues
   * lie in (1, 3), so it is SPD with condition number below 3 (and the same in row- and column-major).
   */
  private static double[] spd(int n, Random random) {
    double[] a = new double[n * n];
    for (int i = 0; i < n; i++) {
      a[i * n + i] = 2;
      for (int j = i + 1; j < n; j++) {
        double v = (random.nextDouble() * 2 - 1) / n;
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    }
    return a;
  }

  /** U with Uᵀ U = A; element (i, j) of U at j * n + i; zero below the diagonal. */
  static double[] choleskyUpperColumnMajor(double[] a, int n) {
    double[] u = new double[n * n];
    for (int j = 0; j < n; j++) {
      for (int i = 0; i <= j; i++) {
        double sum = a[j * n + i];
        for (int p = 0; p < i; p++) {
          sum -= u[i * n + p] * u[j * n + p];
        }
        u[j * n + i] = i == j ? Math.sqrt(sum) : sum / u[i * n + i];
      }
    }
    return u;
  }

  /** The inverse of an upper triangular matrix by back substitution, column by column (column-major). */
  static double[] upperInverseColumnMajor(double[] u, int n) {
    double[] inverse = new double[n * n];
    for (int j = 0; j < n; j++) {
      inverse[j * n + j] = 1 / u[j * n + j];
      for (int i = j - 1; i >= 0; i--) {
        double sum = 0;
        for (int p = i + 1; p <= j; p++) {
          sum += u[p * n + i] * inverse[j * n + p];
        }
        inverse[j * n + i] = -sum / u[i * n + i];
      }
    }
    return inverse;
  }

  private static void zeroBelowDiagonalColumnMajor(double[] a, int n) {
    for (int j = 0; j < n; j++) {
      for (int i = j + 1; i < n; i++) {
        a[j * n + i] = 0; // LAPACK leaves the other triangle as it was
      }
    }
  }

  private static float[] randomFloats(Random random, int count) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = random.nextFloat() * 2 - 1;
    }
    return values;
  }

  private static double[] randomDoubles(Random random, int count) {
    double[] values = new double[count];
    for (int i = 0; i < count; i++) {
      values[i] = random.nextDouble() * 2 - 1;
    }
    return values;
  }

  /** The CPU model and the instruction-set flags that decide OpenBLAS's kernel choice, from /proc/cpuinfo. */
  static final class CpuInfo {
    private static final List<String> FLAGS_OF_INTEREST = List.of("avx2", "avx512f", "avx512_bf16", "avx512_fp16",
        "amx_bf16", "amx_int8", "amx_tile");

    private CpuInfo() {}

    static String describe() {
      Path cpuinfo = Path.of("/proc/cpuinfo");
      String model = System.getProperty("os.arch");
      Set<String> flags = new TreeSet<>();
      try (Stream<String> lines = Files.lines(cpuinfo)) {
        for (String line : (Iterable<String>) lines::iterator) {
          int colon = line.indexOf(':');
          if (colon < 0) {
            continue;
          }
          String key = line.substring(0, colon).trim();
          String value = line.substring(colon + 1).trim();
          if (key.equals("model name")) {
            model = value;
          } else if (key.equals("flags")) {
            for (String flag : value.split("\\s+")) {
              if (FLAGS_OF_INTEREST.contains(flag)) {
                flags.add(flag);
              }
            }
            break; // the first processor describes them all
          }
        }
      } catch (IOException | RuntimeException e) {
        return model + " (/proc/cpuinfo unreadable: " + e.getMessage() + ")";
      }
      return model + " (flags: " + (flags.isEmpty() ? "none of " + FLAGS_OF_INTEREST : String.join(" ", flags)) + ")";
    }
  }
}
