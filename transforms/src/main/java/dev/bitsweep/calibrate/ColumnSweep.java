package dev.bitsweep.calibrate;

import dev.bitsweep.compress.WeightMatrix;

/**
 * Algorithm 1 of GPTQ (Frantar et al. 2022), which SparseGPT (Frantar and Alistarh 2023) shares, in one place. Each
 * method supplies only what it does differently ({@link ColumnRule}): how a weight is fixed (rounded, or pruned and
 * perhaps rounded), what it decides at the start of a lazy batch or a column, and where its lazy batches end.
 *
 * <p>Three kinds of groups, three names: a <em>Hessian group</em> is the rows of W sharing one Hessian (one per conv
 * group, see {@link Hessians}); a <em>lazy batch</em> is the columns whose error feedback stays inside the batch and
 * reaches later columns in one GEMM; a <em>quantization group</em> ({@code group_size}) is the columns of a row
 * sharing one scale, which only GPTQ's rule knows about.
 *
 * <pre>
 *   U = Cholesky(H⁻¹)ᵀ                                  (upper; damped, see InverseHessianFactor)
 *   for each lazy batch [c1, c2):
 *     for each column j in [c1, c2):
 *       for each row r:  q = fix(W[r, j]);  E[r, j] = (W[r, j] - q) / U[j, j];  W[r, j] = q
 *       W[:, j+1:c2] -= E[:, j] · U[j, j+1:c2]           (within the batch)
 *     W[:, c2:] -= E[:, c1:c2] · U[c1:c2, c2:]           (one GEMM for the later columns)
 * </pre>
 * Rows are independent given H: each batch's column loop runs on row chunks in parallel.
 */
final class ColumnSweep {
  private ColumnSweep() {}

  /** What GPTQ and SparseGPT do differently inside Algorithm 1, for the rows of one Hessian group. */
  interface ColumnRule {
    /** Where the lazy batch starting at sweep column {@code c1} ends (exclusive). */
    int batchEnd(int c1);

    /** Called once per batch, before any of its columns, with every row (e.g. SparseGPT's unstructured mask). */
    default void startBatch(LazyBatch batch) {}

    /** Called for rows r0..r1 before batch column j is fixed (e.g. a group's scale, an n:m mask). */
    default void startColumn(LazyBatch batch, int j, int r0, int r1) {}

    /**
     * The value weight {@code at} (row r of batch column j, {@code at = j * rows + r}) is fixed to; the rule records
     * whatever it stores (a code, a pruned flag).
     */
    float fix(LazyBatch batch, int j, int r, int at, float value);

    /** Called for rows r0..r1 once the batch's columns are fixed, before the GEMM (e.g. to scatter codes). */
    default void endBatch(LazyBatch batch, int r0, int r1) {}
  }

  /** Builds the rule for one Hessian group, once its dead inputs are zeroed. */
  @FunctionalInterface
  interface HessianGroupTask {
    /**
     * @param weights the group's rows (rows x cols, row-major), a copy the task may overwrite
     * @param hessian the group's cols x cols Hessian, a copy the task may overwrite
     * @return the damping that made the Hessian factorizable ({@link InverseHessianFactor#percdampUsed()})
     */
    double run(int firstRow, int rows, float[] weights, double[] hessian);
  }

  /**
   * Runs {@code task} on each Hessian group of {@code w}, in order, after zeroing the group's dead inputs; returns
   * the largest damping any group needed.
   *
   * @throws IllegalArgumentException naming {@code layer} when the Hessian does not fit {@code w} or saw no data
   */
  static double forEachHessianGroup(String layer, WeightMatrix w, double[] hessian, HessianGroupTask task) {
    int groups = Hessians.calibratedGroupCount(layer, w, hessian);
    int cols = w.cols();
    int rowsPerGroup = w.rows() / groups;
    double percdampUsed = 0;
    for (int g = 0; g < groups; g++) {
      int firstRow = g * rowsPerGroup;
      float[] weights = Hessians.rows(w, firstRow, firstRow + rowsPerGroup);
      double[] groupHessian = Hessians.group(hessian, g, cols);
      zeroDeadInputs(groupHessian, weights, rowsPerGroup, cols);
      percdampUsed = Math.max(percdampUsed, task.run(firstRow, rowsPerGroup, weights, groupHessian));
    }
    return percdampUsed;
  }

  /** Inputs never active in calibration: H_ii = 1 keeps H invertible, weight 0 since they cannot matter. */
  static void zeroDeadInputs(double[] hessian, float[] weights, int rows, int cols) {
    for (int i = 0; i < cols; i++) {
      if (hessian[i * cols + i] == 0) {
        hessian[i * cols + i] = 1;
        for (int r = 0; r < rows; r++) {
          weights[r * cols + i] = 0;
        }
      }
    }
  }

  /**
   * Algorithm 1 over the columns of {@code weights} (rows x cols, row-major) in the given order.
   *
   * @param hessian the cols x cols Hessian with rows and columns already in {@code order}
   * @param order sweep column k is column {@code order[k]} of {@code weights}
   * @return the damping that made the Hessian factorizable
   */
  static double sweep(String layer, float[] weights, int rows, int cols, double[] hessian, int[] order,
      double percdamp, ColumnRule rule) {
    try (InverseHessianFactor u = InverseHessianFactor.of(layer, hessian, cols, percdamp);
        TransposedColumns pending = new TransposedColumns(weights, rows, cols, order)) {
      for (int c1 = 0, c2; c1 < cols; c1 = c2) {
        c2 = rule.batchEnd(c1);
        LazyBatch batch = new LazyBatch(c1, c2, rows, pending, u);
        rule.startBatch(batch);
        TransposedColumns.forEachRowChunk(rows, (r0, r1) -> {
          for (int j = 0; j < batch.width; j++) {
            rule.startColumn(batch, j, r0, r1);
            fixColumn(batch, j, r0, r1, rule);
          }
          rule.endBatch(batch, r0, r1);
        });
        pending.propagate(batch.errors, c1, c2, u);
      }
      return u.percdampUsed();
    }
  }

  /** Fixes batch column j of rows r0..r1 and feeds its scaled errors to the batch's later columns along row j of U. */
  private static void fixColumn(LazyBatch batch, int j, int r0, int r1, ColumnRule rule) {
    int rows = batch.rows;
    int width = batch.width;
    float[] values = batch.values;
    float[] errors = batch.errors;
    float[] u = batch.u;
    float diagonal = u[j * width + j];
    int at = j * rows;
    for (int r = r0; r < r1; r++) {
      float value = values[at + r];
      float fixed = rule.fix(batch, j, r, at + r, value);
      values[at + r] = fixed;
      errors[at + r] = (value - fixed) / diagonal;
    }
    for (int k = j + 1; k < width; k++) {
      float feedback = u[j * width + k];
      int target = k * rows;
      for (int r = r0; r < r1; r++) {
        values[target + r] -= errors[at + r] * feedback;
      }
    }
  }

  /**
   * Sweep columns {@code [first, end)} of every row, column-major: the element of row r in batch column j (sweep
   * column {@code first + j}) is at {@code j * rows + r} in {@link #values} and {@link #errors}.
   */
  static final class LazyBatch {
    final int first;
    final int end;
    final int width;
    final int rows;
    /** The columns as updated by every earlier column; a fixed column holds its fixed values. */
    final float[] values;
    /** U[first:end, first:end], row-major. */
    final float[] u;
    /** Each weight's change when fixed, divided by its column's U_jj. */
    final float[] errors;
    private final TransposedColumns pending;

    private LazyBatch(int first, int end, int rows, TransposedColumns pending, InverseHessianFactor factor) {
      this.first = first;
      this.end = end;
      this.width = end - first;
      this.rows = rows;
      this.pending = pending;
      this.values = pending.read(first, end);
      this.u = factor.block(first, end, first, end);
      this.errors = new float[values.length];
    }

    /** U_jj of batch column j. */
    float diagonal(int j) {
      return u[j * width + j];
    }

    /**
     * Sweep columns {@code [end, to)} as they stand now: with the feedback of every earlier batch, not yet this
     * one's. Same layout as {@link #values}.
     */
    float[] later(int to) {
      return pending.read(end, to);
    }
  }
}
