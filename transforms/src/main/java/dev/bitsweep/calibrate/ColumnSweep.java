package dev.bitsweep.calibrate;

import dev.bitsweep.compress.WeightMatrix;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;

/**
 * The frame of Algorithm 1 that GPTQ and SparseGPT share; each method supplies only what it does to a weight
 * (round it, prune it) and where its blocks end.
 *
 * <p>{@link #forEachHessianGroup} hands every group of rows that shares one Hessian (see {@link Hessians}) to the
 * method, with its dead inputs already zeroed. {@link #sweep} then walks those rows' columns in lazy batches: it
 * factors U, the upper Cholesky factor of the damped H⁻¹ (raising the damping on failure, see
 * {@link InverseHessianFactor}), hands each {@link Block} of columns to the method, which fixes the block's columns
 * and records their scaled errors, and feeds those errors to every later column in one GEMM.
 */
final class ColumnSweep {
  private ColumnSweep() {}

  /** The method's work on the rows {@code [firstRow, firstRow + rows)} of the layer that share one Hessian. */
  @FunctionalInterface
  interface RowGroupTask {
    /**
     * @param weights the group's rows (rows x cols, row-major), a copy the task may overwrite
     * @param hessian the group's cols x cols Hessian, a copy the task may overwrite
     * @return the damping that made the Hessian factorizable ({@link InverseHessianFactor#percdampUsed()})
     */
    double run(int firstRow, int rows, float[] weights, double[] hessian);
  }

  /**
   * Runs {@code task} on each group of rows of {@code w} that shares a Hessian, in order, after zeroing the group's
   * dead inputs; returns the largest damping any group needed.
   *
   * @throws IllegalArgumentException naming {@code layer} when the Hessian does not fit {@code w} or saw no data
   */
  static double forEachHessianGroup(String layer, WeightMatrix w, double[] hessian, RowGroupTask task) {
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
   * Walks the columns of {@code weights} (rows x cols, row-major) in the given order, in blocks
   * {@code [c1, blockEnd(c1))}, handing each to {@code fixBlock} and then applying its errors to the later columns.
   *
   * @param hessian the cols x cols Hessian with rows and columns already in {@code order}
   * @param order column k of the sweep is column {@code order[k]} of {@code weights}
   * @return the damping that made the Hessian factorizable
   */
  static double sweep(String layer, float[] weights, int rows, int cols, double[] hessian, int[] order,
      double percdamp, IntUnaryOperator blockEnd, Consumer<Block> fixBlock) {
    try (InverseHessianFactor u = InverseHessianFactor.of(layer, hessian, cols, percdamp);
        TransposedColumns pending = new TransposedColumns(weights, rows, cols, order)) {
      for (int c1 = 0, c2; c1 < cols; c1 = c2) {
        c2 = blockEnd.applyAsInt(c1);
        Block block = new Block(c1, c2, rows, pending, u);
        fixBlock.accept(block);
        pending.propagate(block.errors, c1, c2, u);
      }
      return u.percdampUsed();
    }
  }

  /**
   * Sweep columns {@code [first, end)} of every row, column-major: the element of row r in block column j (sweep
   * column {@code first + j}) is at {@code j * rows + r} in {@link #values} and {@link #errors}.
   */
  static final class Block {
    final int first;
    final int end;
    final int width;
    final int rows;
    /** The columns as updated by every earlier column; the method may overwrite them. */
    final float[] values;
    /** U[first:end, first:end], row-major. */
    final float[] u;
    /** For the method to fill: each weight's change when fixed, divided by its column's U_jj. */
    final float[] errors;
    private final TransposedColumns pending;

    private Block(int first, int end, int rows, TransposedColumns pending, InverseHessianFactor factor) {
      this.first = first;
      this.end = end;
      this.width = end - first;
      this.rows = rows;
      this.pending = pending;
      this.values = pending.read(first, end);
      this.u = factor.block(first, end, first, end);
      this.errors = new float[values.length];
    }

    /** U_jj of block column j. */
    float diagonal(int j) {
      return u[j * width + j];
    }

    /** Feeds the errors of block column j (rows r0..r1) to the block's later columns along row j of U. */
    void feedForward(int j, int r0, int r1) {
      int at = j * rows;
      for (int k = j + 1; k < width; k++) {
        float feedback = u[j * width + k];
        int target = k * rows;
        for (int r = r0; r < r1; r++) {
          values[target + r] -= errors[at + r] * feedback;
        }
      }
    }

    /**
     * Sweep columns {@code [end, to)} as they stand now: with the feedback of every earlier block, not yet this one's.
     * Same layout as {@link #values}.
     */
    float[] later(int to) {
      return pending.read(end, to);
    }
  }
}
