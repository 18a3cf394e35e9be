package dev.bitsweep.nativemath;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.CblasUpper;
import static org.bytedeco.openblas.global.openblas.LAPACK_COL_MAJOR;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dpotrf;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dtrtri;
import static org.bytedeco.openblas.global.openblas.cblas_dgemm;
import static org.bytedeco.openblas.global.openblas.cblas_dsyrk;
import static org.bytedeco.openblas.global.openblas.cblas_sgemm;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;

/** The routines of {@link NativeRoutines} from the OpenBLAS that JavaCPP loads (org.bytedeco:openblas). */
public final class OpenBlasRoutines implements NativeRoutines {
  public static final OpenBlasRoutines INSTANCE = new OpenBlasRoutines();

  private OpenBlasRoutines() {}

  @Override
  public void sgemmTransNoTrans(int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, alpha, a, m, b, n, beta, c, n);
  }

  @Override
  public void dgemmNoTransNoTrans(int m, int n, int k, double[] a, double[] b, double[] c) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, c, n);
  }

  @Override
  public void dsyrkUpperTrans(int n, int k, double[] x, double[] c) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, k, 1.0, x, n, 0.0, c, n);
  }

  @Override
  public int dpotrfUpper(int n, double[] a) {
    return LAPACKE_dpotrf(LAPACK_COL_MAJOR, (byte) 'U', n, a, n);
  }

  @Override
  public int dtrtriUpper(int n, double[] a) {
    return LAPACKE_dtrtri(LAPACK_COL_MAJOR, (byte) 'U', (byte) 'N', n, a, n);
  }

  /** E.g. "OpenBLAS 0.3.31 (org.bytedeco:openblas 0.3.31-1.5.13, built for NEHALEM with run-time kernel choice)". */
  public static String describe() {
    String artifact;
    try {
      artifact = Loader.getVersion("org.bytedeco", "openblas");
    } catch (java.io.IOException | RuntimeException | LinkageError e) {
      artifact = null;
    }
    return openblas.OPENBLAS_VERSION.trim() + " (org.bytedeco:openblas " + (artifact == null ? "unknown" : artifact)
        + ", built for " + openblas.OPENBLAS_CHAR_CORENAME + " with run-time kernel choice)";
  }
}
