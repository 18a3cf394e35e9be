package dev.bitsweep.nativemath;

/**
 * The BLAS/LAPACK calls bitsweep makes, each with the one argument pattern it uses (dense, contiguous, no padding).
 * {@link OpenBlasRoutines} is the real implementation; tests substitute a faulty one.
 */
public interface NativeRoutines {
  /** C = alpha · Aᵀ · B + beta · C; row-major, A is k x m, B is k x n, C is m x n (cblas_sgemm, Trans, NoTrans). */
  void sgemmTransNoTrans(int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c);

  /** C = A · B; row-major, A is m x k, B is k x n, C is m x n (cblas_dgemm, NoTrans, NoTrans). */
  void dgemmNoTransNoTrans(int m, int n, int k, double[] a, double[] b, double[] c);

  /** The upper triangle of C = Xᵀ · X; row-major, X is k x n, C is n x n (cblas_dsyrk, Upper, Trans). */
  void dsyrkUpperTrans(int n, int k, double[] x, double[] c);

  /** In place, column-major: the upper Cholesky factor of an SPD n x n matrix; returns LAPACK's info. */
  int dpotrfUpper(int n, double[] a);

  /** In place, column-major: the inverse of an upper triangular non-unit n x n matrix; returns LAPACK's info. */
  int dtrtriUpper(int n, double[] a);
}
