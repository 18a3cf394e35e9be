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
 * Lazy batching: updates stay inside a batch of {@code lazy_batch_size} columns and reach later columns in one GEMM
 * per batch. The loop itself is {@link ColumnSweep}; this class is what GPTQ does in it: round to the quantization
 * group's grid.
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
    GptqGrid grid = new GptqGrid(config.nbits(), config.symmetric(), config.scaleDtype());
    int scalesPerRow = config.groupSize() == 0 ? 1 : QuantizedWeights.blocksPerRow(cols, config.groupSize());
    byte[] codes = new byte[rows * cols];
    float[] scales = new float[rows * scalesPerRow];
    int[] zeros = new int[rows * scalesPerRow];
    double percdampUsed = ColumnSweep.forEachHessianGroup(layer, w, hessian,
        (firstRow, groupRows, groupWeights, groupHessian) -> {
          HessianGroupQuantizer part = new HessianGroupQuantizer(groupWeights, groupRows, cols, grid, scalesPerRow);
          double used = part.quantize(layer, groupHessian);
          System.arraycopy(part.codes, 0, codes, firstRow * cols, part.codes.length);
          System.arraycopy(part.scales, 0, scales, firstRow * scalesPerRow, part.scales.length);
          System.arraycopy(part.zeros, 0, zeros, firstRow * scalesPerRow, part.zeros.length);
          return used;
        });
    QuantizedWeights quantized = new QuantizedWeights(rows, cols, grid.dtype(),
        config.groupSize() == 0 ? Granularity.PER_CHANNEL : Granularity.PER_BLOCK, config.groupSize(), codes, scales,
        config.symmetric() ? null : zeros, config.nbits());
    return new Result(quantized, percdampUsed);
  }

  public Result quantize(WeightMatrix w, double[] hessian) {
    return quantize("layer", w, hessian);
  }

  /** GPTQ's part of Algorithm 1 for the rows of one Hessian group: round each weight to its group's grid. */
  private final class HessianGroupQuantizer implements ColumnSweep.ColumnRule {
    final float[] weights;
    final int rows;
    final int cols;
    final GptqGrid grid;
    final int scalesPerRow;
    final int groupSize = config.groupSize();
    final boolean staticGroups = config.groupSize() > 0 && config.actOrder();
    final boolean dynamicGroups = config.groupSize() > 0 && !config.actOrder();
    final byte[] codes;
    final float[] scales;
    final int[] zeros;
    private int[] order;
    /** The current batch's codes, laid out like its values. */
    private byte[] batchCodes;
    /** The current batch's first group's columns past the batch, when it reaches past it (see {@link #batchEnd}). */
    private float[] beyond;

    HessianGroupQuantizer(float[] weights, int rows, int cols, GptqGrid grid, int scalesPerRow) {
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
      order = config.actOrder() ? byDescendingDiagonal(hessian, cols) : IntStream.range(0, cols).toArray();
      double[] ordered = config.actOrder() ? permute(hessian, cols, order) : hessian;
      return ColumnSweep.sweep(layer, weights, rows, cols, ordered, order, config.percdamp(), this);
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

    /**
     * A batch ends early at a group start whose group would reach past it: the group's scale must be fit to
     * weights that already carry every earlier column's error feedback.
     */
    @Override
    public int batchEnd(int c1) {
      int end = Math.min(cols, c1 + config.lazyBatchSize());
      if (dynamicGroups) {
        int lastStart = ((end - 1) / groupSize) * groupSize;
        if (lastStart > c1 && groupEnd(lastStart) > end) {
          end = lastStart;
        }
      }
      return end;
    }

    @Override
    public void startBatch(ColumnSweep.LazyBatch batch) {
      batchCodes = new byte[batch.values.length];
      beyond = groupStartsAt(batch.first) && groupEnd(batch.first) > batch.end
          ? batch.later(groupEnd(batch.first)) : new float[0];
    }

    /** Without act_order, a group's scale is fit when the sweep reaches its first column. */
    @Override
    public void startColumn(ColumnSweep.LazyBatch batch, int j, int r0, int r1) {
      int column = batch.first + j;
      if (groupStartsAt(column)) {
        fitGroupToCurrentWeights(column, batch, r0, r1);
      }
    }

    @Override
    public float fix(ColumnSweep.LazyBatch batch, int j, int r, int at, float value) {
      int s = r * scalesPerRow + (groupSize == 0 ? 0 : order[batch.first + j] / groupSize);
      int code = grid.code(value, scales[s], zeros[s]);
      batchCodes[at] = (byte) code;
      return GptqGrid.decode(code, scales[s], zeros[s]);
    }

    @Override
    public void endBatch(ColumnSweep.LazyBatch batch, int r0, int r1) {
      for (int r = r0; r < r1; r++) {
        for (int j = 0; j < batch.width; j++) {
          codes[r * cols + order[batch.first + j]] = batchCodes[j * rows + r];
        }
      }
    }

    private void fitGroupToCurrentWeights(int column, ColumnSweep.LazyBatch batch, int r0, int r1) {
      int c1 = batch.first;
      int c2 = batch.end;
      int end = groupEnd(column);
      int group = column / groupSize;
      for (int r = r0; r < r1; r++) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int c = column; c < end; c++) {
          float value = c < c2 ? batch.values[(c - c1) * rows + r] : beyond[(c - c2) * rows + r];
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
