package dev.bitsweep.calibrate;

import static org.bytedeco.openblas.global.openblas.LAPACK_COL_MAJOR;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dpotrf;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dtrtri;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The upper Cholesky factor U of the damped inverse Hessian, {@code Uᵀ U = (H + λI)⁻¹}, which GPTQ and SparseGPT read
 * row by row: row i of U is the error-feedback direction of column i given that columns before i are fixed.
 *
 * <p>Computed with one Cholesky factorization and one triangular inverse (LAPACKE, float64) instead of the usual
 * factor / invert / factor again: with J the index reversal, factor J H J = L Lᵀ; then R = J L J is upper triangular
 * with H = R Rᵀ, so H⁻¹ = R⁻ᵀ R⁻¹ and U = R⁻¹ = J L⁻¹ J is exactly the upper Cholesky factor of H⁻¹.
 *
 * <p>Damping λ = percdamp · mean(diag H). When the factorization fails (H not positive definite in floating point,
 * e.g. too few calibration tokens), percdamp is raised tenfold and the factorization retried, up to
 * {@link #MAX_RETRIES} times; {@link #percdampUsed()} reports the damping that worked.
 */
final class InverseHessianFactor implements AutoCloseable {
  static final int MAX_RETRIES = 3;

  private final int n;
  private final FloatPointer upper;
  private final double percdampUsed;

  private InverseHessianFactor(int n, FloatPointer upper, double percdampUsed) {
    this.n = n;
    this.upper = upper;
    this.percdampUsed = percdampUsed;
  }

  /**
   * Factors the damped inverse of {@code hessian} (n x n row-major, symmetric, finite, positive diagonal).
   *
   * @throws IllegalArgumentException naming {@code layer} when even the highest damping does not make it positive
   *     definite
   */
  static InverseHessianFactor of(String layer, double[] hessian, int n, double percdamp) {
    dev.bitsweep.nativemath.NativeMathCheck.ensure();
    double meanDiagonal = 0;
    for (int i = 0; i < n; i++) {
      meanDiagonal += hessian[i * n + i];
    }
    meanDiagonal /= n;
    try (DoublePointer work = new DoublePointer((long) n * n)) {
      double tried = percdamp;
      for (int attempt = 0; attempt <= MAX_RETRIES; attempt++, tried *= 10) {
        copyReversedWithDamping(hessian, n, tried * meanDiagonal, work);
        // The row-major lower triangle is the column-major upper one: LAPACK works in place, no layout copies.
        if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, (byte) 'U', n, work, n) == 0) {
          int info = LAPACKE_dtrtri(LAPACK_COL_MAJOR, (byte) 'U', (byte) 'N', n, work, n);
          if (info != 0) {
            throw new IllegalStateException(layer + ": triangular inverse failed (LAPACK info " + info + ")");
          }
          return new InverseHessianFactor(n, reverseToUpper(work, n), tried);
        }
      }
      throw new IllegalArgumentException(layer + ": the input Hessian is not positive definite even with percdamp "
          + tried / 10 + " (tried " + percdamp + " and " + MAX_RETRIES + " tenfold increases); check the layer's "
          + "calibration statistics (too few samples or corrupted accumulation)");
    }
  }

  private static void copyReversedWithDamping(double[] hessian, int n, double damp, DoublePointer work) {
    double[] row = new double[n];
    for (int i = 0; i < n; i++) {
      int source = n - 1 - i;
      for (int j = 0; j < n; j++) {
        row[j] = hessian[source * n + (n - 1 - j)];
      }
      row[i] += damp;
      work.put(row, 0, n);
      work.position(work.position() + n);
    }
    work.position(0);
  }

  /** U[i][j] = Linv[n-1-i][n-1-j] for j ≥ i, zero below the diagonal. */
  private static FloatPointer reverseToUpper(DoublePointer inverseLower, int n) {
    FloatPointer upper = new FloatPointer((long) n * n);
    double[] sourceRow = new double[n];
    float[] row = new float[n];
    for (int i = 0; i < n; i++) {
      int source = n - 1 - i;
      inverseLower.position((long) source * n).get(sourceRow, 0, n);
      java.util.Arrays.fill(row, 0, i, 0f);
      for (int j = i; j < n; j++) {
        row[j] = (float) sourceRow[n - 1 - j];
      }
      upper.position((long) i * n).put(row, 0, n);
    }
    inverseLower.position(0);
    upper.position(0);
    return upper;
  }

  int size() {
    return n;
  }

  double percdampUsed() {
    return percdampUsed;
  }

  /** The n x n row-major factor in native memory (for SGEMM). */
  FloatPointer nativeUpper() {
    return upper;
  }

  /** Copies U[r1:r2, c1:c2] into a row-major Java array. */
  float[] block(int r1, int r2, int c1, int c2) {
    int width = c2 - c1;
    float[] out = new float[(r2 - r1) * width];
    for (int r = r1; r < r2; r++) {
      upper.position((long) r * n + c1).get(out, (r - r1) * width, width);
    }
    upper.position(0);
    return out;
  }

  @Override
  public void close() {
    upper.deallocate();
  }
}
