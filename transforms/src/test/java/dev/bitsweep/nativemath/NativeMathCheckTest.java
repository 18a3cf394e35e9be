package dev.bitsweep.nativemath;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class NativeMathCheckTest {

  @Test
  void passesOnThisMachineForEveryRoutine() {
    long first = System.nanoTime();
    List<NativeMathCheck.RoutineResult> results = NativeMathCheck.verify(OpenBlasRoutines.INSTANCE);
    System.out.printf("first check (loads OpenBLAS): %.1f ms%n", (System.nanoTime() - first) / 1e6);
    assertEquals(NativeMathCheck.ROUTINES, results.stream().map(NativeMathCheck.RoutineResult::routine).toList());
    for (NativeMathCheck.RoutineResult result : results) {
      assertTrue(result.relativeError() <= result.tolerance(), result.toString());
      System.out.printf("%s: relative error %.2e (tolerance %.0e), %.1f ms%n", result.routine(),
          result.relativeError(), result.tolerance(), result.millis());
    }
    var threads = java.lang.management.ManagementFactory.getThreadMXBean();
    long start = System.nanoTime();
    long cpu = threads.getCurrentThreadCpuTime();
    NativeMathCheck.verify(OpenBlasRoutines.INSTANCE);
    System.out.printf("second check: %.1f ms wall, %.1f ms CPU of the calling thread%n",
        (System.nanoTime() - start) / 1e6, (threads.getCurrentThreadCpuTime() - cpu) / 1e6);
    NativeMathCheck.ensure();
    NativeMathCheck.ensure();
  }

  @Test
  void theBundledOpenBlasIsTheOverriddenOne() {
    // 0.3.19 (from ND4J 1.0.0-M2.1) computes a wrong dpotrf on Sapphire Rapids; the parent pom overrides it
    assertTrue(OpenBlasRoutines.describe().startsWith("OpenBLAS 0.3.31 (org.bytedeco:openblas 0.3.31-1.5.13, "),
        OpenBlasRoutines.describe());
  }

  /** Every BLAS/LAPACK routine the sources call is one the check covers, and the check covers no unused one. */
  @Test
  void theCheckCoversExactlyTheRoutinesTheSourcesCall() throws IOException {
    Pattern call = Pattern.compile("\\b(cblas_\\w+|LAPACKE_\\w+)\\(");
    Set<String> called = new TreeSet<>();
    Path sources = Path.of("src/main/java");
    try (Stream<Path> files = Files.walk(sources)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        if (file.startsWith(sources.resolve("dev/bitsweep/nativemath"))) {
          continue;
        }
        Matcher matcher = call.matcher(Files.readString(file));
        while (matcher.find()) {
          called.add(matcher.group(1));
        }
      }
    }
    assertEquals(new TreeSet<>(NativeMathCheck.ROUTINES), called);
  }

  @Test
  void aRoutineReturningWrongNumbersIsNamedWithTheCpuAndWhatToDo() throws IOException {
    String cpu = firstModelName();
    assertFailure(new Faulty().sgemm(c -> c[7] += 1), "cblas_sgemm (matrix product, row-major, Aᵀ·B, 150x128 by "
        + "128x130) differs from plain Java by ", cpu);
    assertFailure(new Faulty().dgemm(c -> c[0] *= 1.001), "cblas_dgemm (matrix product, row-major, A·B, 160x144 by "
        + "144x136) differs from plain Java by ", cpu);
    assertFailure(new Faulty().dsyrk(c -> c[145] = Double.NaN), "cblas_dsyrk (rank-k update, row-major, upper, Xᵀ·X, "
        + "200x144) differs from plain Java by Infinity relative to the largest value (tolerance 1e-10; element 145 is NaN",
        cpu);
    assertFailure(new Faulty().dpotrf(a -> a[256 * 40 + 33] += 1e-3), "LAPACKE_dpotrf (Cholesky factorization, "
        + "column-major upper, 256x256 well-conditioned SPD matrix) differs from plain Java by ", cpu);
    assertFailure(new Faulty().dpotrfInfo(33), "LAPACKE_dpotrf (Cholesky factorization, column-major upper, 256x256 "
        + "well-conditioned SPD matrix) returned info 33 (expected 0). CPU: ", cpu);
    assertFailure(new Faulty().dtrtri(a -> a[256 * 255] = 1e3), "LAPACKE_dtrtri (triangular inverse, column-major "
        + "upper non-unit, 256x256) differs from plain Java by ", cpu);
  }

  private static void assertFailure(NativeRoutines routines, String expectedStart, String cpu) {
    NativeMathError error = assertThrows(NativeMathError.class, () -> NativeMathCheck.verify(routines));
    String message = error.getMessage();
    assertTrue(message.startsWith("native math self-check failed: " + expectedStart), message);
    assertTrue(message.contains(". CPU: " + cpu + " (flags: "), message);
    assertTrue(message.contains("; BLAS: OpenBLAS 0.3.31 (org.bytedeco:openblas 0.3.31-1.5.13, built for "), message);
    assertTrue(message.endsWith(". bitsweep stopped rather than compute wrong numbers. What to do: run the workers "
        + "with the environment variable OPENBLAS_CORETYPE=Haswell (a kernel that is correct on every x86-64 CPU with "
        + "AVX2), check that `mvn dependency:tree -Dincludes=org.bytedeco` shows openblas 0.3.31-1.5.13 (an older "
        + "OpenBLAS on the classpath predates this CPU), and report this message with the CPU model to the bitsweep "
        + "maintainers"), message);
  }

  private static String firstModelName() throws IOException {
    try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
      return lines.filter(l -> l.startsWith("model name")).findFirst().orElseThrow().replaceFirst("^[^:]*:\\s*", "");
    }
  }

  /** The real routines, with one of them made to return wrong numbers. */
  private static final class Faulty implements NativeRoutines {
    private final NativeRoutines real = OpenBlasRoutines.INSTANCE;
    private UnaryOperatorF sgemmFault = c -> { };
    private UnaryOperatorD dgemmFault = c -> { };
    private UnaryOperatorD dsyrkFault = c -> { };
    private UnaryOperatorD dpotrfFault = a -> { };
    private UnaryOperatorD dtrtriFault = a -> { };
    private int dpotrfInfo;

    interface UnaryOperatorF {
      void corrupt(float[] values);
    }

    interface UnaryOperatorD {
      void corrupt(double[] values);
    }

    Faulty sgemm(UnaryOperatorF fault) {
      sgemmFault = fault;
      return this;
    }

    Faulty dgemm(UnaryOperatorD fault) {
      dgemmFault = fault;
      return this;
    }

    Faulty dsyrk(UnaryOperatorD fault) {
      dsyrkFault = fault;
      return this;
    }

    Faulty dpotrf(UnaryOperatorD fault) {
      dpotrfFault = fault;
      return this;
    }

    Faulty dpotrfInfo(int info) {
      dpotrfInfo = info;
      return this;
    }

    Faulty dtrtri(UnaryOperatorD fault) {
      dtrtriFault = fault;
      return this;
    }

    @Override
    public void sgemmTransNoTrans(int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c) {
      real.sgemmTransNoTrans(m, n, k, alpha, a, b, beta, c);
      sgemmFault.corrupt(c);
    }

    @Override
    public void dgemmNoTransNoTrans(int m, int n, int k, double[] a, double[] b, double[] c) {
      real.dgemmNoTransNoTrans(m, n, k, a, b, c);
      dgemmFault.corrupt(c);
    }

    @Override
    public void dsyrkUpperTrans(int n, int k, double[] x, double[] c) {
      real.dsyrkUpperTrans(n, k, x, c);
      dsyrkFault.corrupt(c);
    }

    @Override
    public int dpotrfUpper(int n, double[] a) {
      int info = real.dpotrfUpper(n, a);
      dpotrfFault.corrupt(a);
      return dpotrfInfo != 0 ? dpotrfInfo : info;
    }

    @Override
    public int dtrtriUpper(int n, double[] a) {
      int info = real.dtrtriUpper(n, a);
      dtrtriFault.corrupt(a);
      return info;
    }
  }
}
