package dev.bitsweep.calibrate;

import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.compress.WeightMatrix;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * GPTQ (Frantar, Ashkboos, Hoefler, Alistarh 2022, Algorithm 1): quantizes the columns of W one at a time in a fixed
 * order; after rounding column i, its error scaled by 1/U_ii is subtracted from the remaining columns along row i of
 * U, the upper Cholesky factor of H⁻¹ — the optimal (OBS) update for the layer's output error tr(ΔW H ΔWᵀ).
 * Lazy batching: updates stay inside a block of {@code blockSize} columns and reach later columns in one GEMM per
 * block. Rows are independent given H and run in parallel.
 *
 * <p>Dead inputs (H_ii = 0, never active in the calibration data) get H_ii = 1 and weight 0, as in the paper's
 * reference: they cannot affect the output error, so their weights are set to 0 before scales are fit.
 *
 * <p>Scales: per channel, they are fit once to each row (after the dead-input zeroing). Per group without act_order,
 * each group's scale is fit when quantization reaches its first column, to the group's current (already
 * error-updated) weights, as the paper does. With act_order, columns are processed by descending diag(H), so a
 * group of consecutive original columns is no longer processed together; its scale is fit up front to the original
 * weights ("static groups") so that every group stays a contiguous run of original columns, which is what the
 * ONNX block quantization format stores.
 */
public final class Gptq {
  private final GptqConfig config;

  public Gptq(GptqConfig config) {
    this.config = config;
  }

  /** The quantized weights and the damping that made the Hessian factorizable (the largest over conv groups). */
  public record Result(QuantizedWeights weights, double percdampUsed) {}

  /**
   * Quantizes {@code w} given its input Hessian (see {@link Hessians} for the layout of grouped convs).
   *
   * @param layer named in error messages
   */
  public Result quantize(String layer, WeightMatrix w, double[] hessian) {
    int rows = w.rows();
    int cols = w.cols();
    UniformGrid grid = new UniformGrid(config.nbits(), config.symmetric());
    int scalesPerRow = config.groupSize() == 0 ? 1 : QuantizedWeights.blocksPerRow(cols, config.groupSize());
    byte[] codes = new byte[rows * cols];
    float[] scales = new float[rows * scalesPerRow];
    int[] zeros = new int[rows * scalesPerRow];
    double percdampUsed = ColumnSweep.forEachHessianGroup(layer, w, hessian,
        (firstRow, groupRows, groupWeights, groupHessian) -> {
          RowBlock part = new RowBlock(groupWeights, groupRows, cols, grid, scalesPerRow);
          double used = part.quantize(layer, groupHessian);
          System.arraycopy(part.codes, 0, codes, firstRow * cols, part.codes.length);
          System.arraycopy(part.scales, 0, scales, firstRow * scalesPerRow, part.scales.length);
          System.arraycopy(part.zeros, 0, zeros, firstRow * scalesPerRow, part.zeros.length);
          return used;
        });
    QuantizedWeights quantized = new QuantizedWeights(rows, cols, grid.dtype(),
        config.groupSize() == 0 ? Granularity.PER_CHANNEL : Granularity.PER_BLOCK, config.groupSize(), codes, scales,
        config.symmetric() ? null : zeros);
    return new Result(quantized, percdampUsed);
  }

  public Result quantize(WeightMatrix w, double[] hessian) {
    return quantize("layer", w, hessian);
  }

  /** The rows of W that share one Hessian, quantized together. */
  private final class RowBlock {
    final float[] weights;
    final int rows;
    final int cols;
    final UniformGrid grid;
    final int scalesPerRow;
    final int groupSize = config.groupSize();
    final boolean staticGroups = config.groupSize() > 0 && config.actOrder();
    final boolean dynamicGroups = config.groupSize() > 0 && !config.actOrder();
    final byte[] codes;
    final float[] scales;
    final int[] zeros;

    RowBlock(float[] weights, int rows, int cols, UniformGrid grid, int scalesPerRow) {
      this.weights = weights;
      this.rows = rows;
      this.cols = cols;
      this.grid = grid;
      this.scalesPerRow = scalesPerRow;
      this.codes = new byte[rows * cols];
      this.scales = new float[rows * scalesPerRow];
      this.zeros = new int[rows * scalesPerRow];
    }

    /** Quantizes the rows given their Hessian (dead inputs already zeroed); returns the damping used. */
    double quantize(String layer, double[] hessian) {
      fitUpFrontScales();
      int[] order = config.actOrder() ? byDescendingDiagonal(hessian, cols) : IntStream.range(0, cols).toArray();
      double[] ordered = config.actOrder() ? permute(hessian, cols, order) : hessian;
      return ColumnSweep.sweep(layer, weights, rows, cols, ordered, order, config.percdamp(), this::blockEnd,
          block -> quantizeBlock(block, order));
    }

    private void quantizeBlock(ColumnSweep.Block block, int[] order) {
      int first = block.first;
      float[] beyond = groupStartsAt(first) && groupEnd(first) > block.end
          ? block.later(groupEnd(first)) : new float[0];
      TransposedColumns.forEachRowChunk(rows, (r0, r1) -> quantizeRows(block, beyond, order, r0, r1));
    }

    private void fitUpFrontScales() {
      if (groupSize == 0) {
        for (int r = 0; r < rows; r++) {
          grid.fit(weights, r * cols, cols, 1, scales, zeros, r);
        }
      } else if (staticGroups) {
        for (int r = 0; r < rows; r++) {
          for (int g = 0; g < scalesPerRow; g++) {
            int first = g * groupSize;
            grid.fit(weights, r * cols + first, Math.min(groupSize, cols - first), 1, scales, zeros,
                r * scalesPerRow + g);
          }
        }
      }
    }

    /** Algorithm 1's inner loop over the columns of one block, for rows r0..r1. */
    private void quantizeRows(ColumnSweep.Block block, float[] beyond, int[] order, int r0, int r1) {
      int width = block.width;
      byte[] blockCodes = new byte[width * (r1 - r0)]; // column-major like the block; scattered once at the end
      for (int j = 0; j < width; j++) {
        int column = block.first + j;
        int original = order[column];
        if (groupStartsAt(column)) {
          fitGroupToCurrentWeights(column, block, beyond, r0, r1);
        }
        float diagonal = block.diagonal(j);
        int at = j * rows;
        for (int r = r0; r < r1; r++) {
          int s = r * scalesPerRow + (groupSize == 0 ? 0 : original / groupSize);
          float value = block.values[at + r];
          int code = grid.code(value, scales[s], zeros[s]);
          blockCodes[j * (r1 - r0) + r - r0] = (byte) code;
          block.errors[at + r] = (value - UniformGrid.decode(code, scales[s], zeros[s])) / diagonal;
        }
        block.feedForward(j, r0, r1);
      }
      for (int r = r0; r < r1; r++) {
        for (int j = 0; j < width; j++) {
          codes[r * cols + order[block.first + j]] = blockCodes[j * (r1 - r0) + r - r0];
        }
      }
    }

    /** {@code beyond}: the group's columns past the block, if it reaches past it (see {@link #blockEnd}). */
    private void fitGroupToCurrentWeights(int column, ColumnSweep.Block block, float[] beyond, int r0, int r1) {
      int c1 = block.first;
      int c2 = block.end;
      int end = groupEnd(column);
      int group = column / groupSize;
      for (int r = r0; r < r1; r++) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int c = column; c < end; c++) {
          float value = c < c2 ? block.values[(c - c1) * rows + r] : beyond[(c - c2) * rows + r];
          lo = Math.min(lo, value);
          hi = Math.max(hi, value);
        }
        grid.fit(lo, hi, scales, zeros, r * scalesPerRow + group);
      }
    }

    private boolean groupStartsAt(int column) {
      return dynamicGroups && column % groupSize == 0;
    }

    private int groupEnd(int column) {
      return Math.min(cols, (column / groupSize + 1) * groupSize);
    }

    /**
     * A block ends early at a group start whose group would reach past it: the group's scale must be fit to
     * weights that already carry every earlier column's error feedback.
     */
    private int blockEnd(int c1) {
      int end = Math.min(cols, c1 + config.lazyBatchSize());
      if (dynamicGroups) {
        int lastStart = ((end - 1) / groupSize) * groupSize;
        if (lastStart > c1 && groupEnd(lastStart) > end) {
          end = lastStart;
        }
      }
      return end;
    }
  }

  static int[] byDescendingDiagonal(double[] hessian, int cols) {
    return IntStream.range(0, cols).boxed()
        .sorted(Comparator.comparingDouble((Integer i) -> -hessian[i * cols + i]))
        .mapToInt(Integer::intValue).toArray();
  }

  static double[] permute(double[] hessian, int cols, int[] order) {
    double[] out = new double[hessian.length];
    for (int i = 0; i < cols; i++) {
      for (int j = 0; j < cols; j++) {
        out[i * cols + j] = hessian[order[i] * cols + order[j]];
      }
    }
    return out;
  }
}
