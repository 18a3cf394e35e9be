package dev.bitsweep.calibrate;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.cblas_sgemm;

import java.util.stream.IntStream;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The not-yet-processed columns of a weight matrix, stored transposed in native memory so that a lazy batch of columns
 * is one contiguous slab, a column is contiguous over rows (vectorizable updates), and the lazy-batch update
 * {@code W[:, c2:] -= Err · U[c1:c2, c2:]} of GPTQ/SparseGPT is a single SGEMM.
 */
final class TransposedColumns implements AutoCloseable {
  /** Rows handled together by one task: a 128-column lazy batch of 256 rows (128 KiB) stays in L2 cache. */
  static final int ROW_CHUNK = 256;

  private final int rows;
  private final int cols;
  private final FloatPointer columns;

  /** Column k of the store is column {@code order[k]} of {@code w} (rows x cols, row-major). */
  TransposedColumns(float[] w, int rows, int cols, int[] order) {
    dev.bitsweep.nativemath.NativeMathCheck.ensure();
    this.rows = rows;
    this.cols = cols;
    this.columns = new FloatPointer((long) rows * cols);
    int tile = 64;
    float[] slab = new float[tile * rows];
    for (int k0 = 0; k0 < cols; k0 += tile) {
      int width = Math.min(tile, cols - k0);
      // 64 x 64 tiles keep both the strided reads and the strided writes inside L1
      for (int r0 = 0; r0 < rows; r0 += tile) {
        int r1 = Math.min(rows, r0 + tile);
        for (int k = 0; k < width; k++) {
          int source = order[k0 + k];
          for (int r = r0; r < r1; r++) {
            slab[k * rows + r] = w[r * cols + source];
          }
        }
      }
      columns.position((long) k0 * rows).put(slab, 0, width * rows);
    }
    columns.position(0);
  }

  /** Columns c1..c2 as one array, column-major: element (row r, column c1+j) at {@code j * rows + r}. */
  float[] read(int c1, int c2) {
    float[] block = new float[(c2 - c1) * rows];
    columns.position((long) c1 * rows).get(block, 0, block.length);
    columns.position(0);
    return block;
  }

  /** Applies the lazy batch's accumulated error feedback to every later column: W[:, c2:] -= Err · U[c1:c2, c2:]. */
  void propagate(float[] errors, int c1, int c2, InverseHessianFactor u) {
    if (c2 >= cols) {
      return;
    }
    int n = u.size();
    try (FloatPointer err = new FloatPointer(errors)) {
      FloatPointer uBlock = u.nativeUpper().getPointer((long) c1 * n + c2);
      FloatPointer later = columns.getPointer((long) c2 * rows);
      // later (cols-c2 x rows) -= U[c1:c2, c2:]ᵀ (cols-c2 x bs) · err (bs x rows)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cols - c2, rows, c2 - c1,
          -1f, uBlock, n, err, rows, 1f, later, rows);
    }
  }

  @Override
  public void close() {
    columns.deallocate();
  }

  /** Runs {@code task(r0, r1)} over consecutive row ranges in parallel; rows are independent in both algorithms. */
  static void forEachRowChunk(int rows, RowRangeTask task) {
    int chunks = (rows + ROW_CHUNK - 1) / ROW_CHUNK;
    IntStream.range(0, chunks).parallel().forEach(c -> task.run(c * ROW_CHUNK, Math.min(rows, (c + 1) * ROW_CHUNK)));
  }

  @FunctionalInterface
  interface RowRangeTask {
    void run(int fromRow, int toRow);
  }
}
