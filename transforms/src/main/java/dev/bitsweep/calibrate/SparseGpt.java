package dev.bitsweep.calibrate;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.DenseWeights;
import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.compress.SparseWeights;
import dev.bitsweep.compress.WeightMatrix;
import java.util.stream.IntStream;

/**
 * SparseGPT (Frantar and Alistarh 2023, Algorithm 1): walks the columns like GPTQ; a weight is pruned (or, with joint
 * quantization, rounded) and its error, divided by [U]_ii, is fed into the remaining columns along row i of U, the
 * upper Cholesky factor of H⁻¹. The mask is chosen by the OBS saliency w² / [U]²_ii, which for the column being
 * processed equals w² / [H⁻¹]_ii of the not-yet-fixed columns:
 * <ul>
 *   <li>unstructured: at the start of each block of {@code blockSize} columns, over the whole block (every row), the
 *       block's share of the target count with the smallest saliency (so the layer's total is exact);
 *   <li>n:m: at every m-th column, the n smallest-saliency weights of each row among the next m columns, using the
 *       weights as already updated by earlier columns.
 * </ul>
 * Dead inputs (H_ii = 0) get H_ii = 1 and weight 0, so they are pruned first. With joint quantization each row's
 * grid is fit once to its original weights and every kept weight is rounded to it when reached, so its rounding
 * error is fed back too; pruned weights decode to exactly 0. Rows sharing a Hessian run in parallel.
 */
public final class SparseGpt {
  private final SparseGptConfig config;

  public SparseGpt(SparseGptConfig config) {
    this.config = config;
  }

  /** The sparse weights and the damping that made the Hessian factorizable (the largest over conv groups). */
  public record Result(SparseWeights weights, double percdampUsed) {}

  /** Prunes {@code w} given its input Hessian (grouped convs: see {@link Hessians}); names {@code layer} in errors. */
  public Result prune(String layer, WeightMatrix w, double[] hessian) {
    int rows = w.rows();
    int cols = w.cols();
    UniformGrid grid = config.quantizes() ? new UniformGrid(config.nbits(), config.symmetric()) : null;
    boolean[] pruned = new boolean[rows * cols];
    float[] values = new float[rows * cols];
    byte[] codes = new byte[rows * cols];
    float[] scales = new float[rows];
    int[] zeros = new int[rows];
    double percdampUsed = ColumnSweep.forEachHessianGroup(layer, w, hessian,
        (firstRow, groupRows, groupWeights, groupHessian) -> {
          // each group prunes its share of a cumulative target, so the layer's total is exact
          long targetBefore = Math.round(config.targetSparsity() * firstRow * (double) cols);
          long targetThrough = Math.round(config.targetSparsity() * (firstRow + groupRows) * (double) cols);
          RowBlock part = new RowBlock(groupWeights, groupRows, cols, grid, targetThrough - targetBefore);
          double used = part.prune(layer, groupHessian);
          int offset = firstRow * cols;
          System.arraycopy(part.pruned, 0, pruned, offset, part.pruned.length);
          System.arraycopy(part.weights, 0, values, offset, part.weights.length);
          System.arraycopy(part.codes, 0, codes, offset, part.codes.length);
          System.arraycopy(part.scales, 0, scales, firstRow, groupRows);
          System.arraycopy(part.zeros, 0, zeros, firstRow, groupRows);
          return used;
        });
    CompressedWeights kept = grid == null
        ? new DenseWeights(new WeightMatrix(values, rows, cols))
        : new QuantizedWeights(rows, cols, grid.dtype(), Granularity.PER_CHANNEL, 0, codes, scales,
            grid.symmetric() ? null : zeros);
    return new Result(new SparseWeights(rows, cols, SparseWeights.keptMask(pruned), kept), percdampUsed);
  }

  public Result prune(WeightMatrix w, double[] hessian) {
    return prune("layer", w, hessian);
  }

  /** The rows of W that share one Hessian. On return {@code weights} holds the final (reconstructed) values. */
  private final class RowBlock {
    final float[] weights;
    final int rows;
    final int cols;
    final UniformGrid grid;
    final long pruneCount;
    final boolean[] pruned;
    final byte[] codes;
    final float[] scales;
    final int[] zeros;

    RowBlock(float[] weights, int rows, int cols, UniformGrid grid, long pruneCount) {
      this.weights = weights;
      this.rows = rows;
      this.cols = cols;
      this.grid = grid;
      this.pruneCount = pruneCount;
      this.pruned = new boolean[rows * cols];
      this.codes = new byte[rows * cols];
      this.scales = new float[rows];
      this.zeros = new int[rows];
    }

    /** Prunes the rows given their Hessian (dead inputs already zeroed); returns the damping used. */
    double prune(String layer, double[] hessian) {
      if (grid != null) {
        for (int r = 0; r < rows; r++) {
          grid.fit(weights, r * cols, cols, 1, scales, zeros, r);
        }
      }
      int[] identity = IntStream.range(0, cols).toArray();
      return ColumnSweep.sweep(layer, weights, rows, cols, hessian, identity, config.percdamp(),
          c1 -> Math.min(cols, c1 + config.lazyBatchSize()), this::pruneBlock);
    }

    private void pruneBlock(ColumnSweep.Block block) {
      boolean[] prunedBlock = new boolean[block.values.length]; // column-major like the block
      if (!config.structured()) {
        long quota = shareOfTarget(block.end) - shareOfTarget(block.first);
        markLowestSaliency(block.values, block.u, block.width, prunedBlock, (int) quota);
      }
      TransposedColumns.forEachRowChunk(rows, (r0, r1) -> pruneRows(block, prunedBlock, r0, r1));
    }

    /** Pruned weights among columns [0, column): the target spread evenly over the columns. */
    private long shareOfTarget(int column) {
      return Math.round((double) pruneCount * column / cols);
    }

    /**
     * Algorithm 1's inner loop over the columns of one block, for rows r0..r1. A processed column of the block's
     * values is overwritten with its final values; the block's results reach the row-major outputs at the end.
     */
    private void pruneRows(ColumnSweep.Block block, boolean[] prunedBlock, int r0, int r1) {
      int c1 = block.first;
      int width = block.width;
      float[] values = block.values;
      int chunkRows = r1 - r0;
      byte[] chunkCodes = new byte[width * chunkRows];
      for (int j = 0; j < width; j++) {
        if (config.structured() && j % config.nmRatio().m() == 0) {
          markLowestSaliencyPerRow(values, block.u, width, j, prunedBlock, r0, r1);
        }
        float diagonal = block.diagonal(j);
        int at = j * rows;
        for (int r = r0; r < r1; r++) {
          float value = values[at + r];
          float kept = prunedBlock[at + r] ? 0f : value;
          if (grid != null) {
            int code = grid.code(kept, scales[r], zeros[r]);
            chunkCodes[j * chunkRows + r - r0] = (byte) code;
            kept = UniformGrid.decode(code, scales[r], zeros[r]);
          }
          values[at + r] = kept;
          block.errors[at + r] = (value - kept) / diagonal;
        }
        block.feedForward(j, r0, r1);
      }
      for (int r = r0; r < r1; r++) {
        for (int j = 0; j < width; j++) {
          int at = j * rows + r;
          weights[r * cols + c1 + j] = values[at];
          pruned[r * cols + c1 + j] = prunedBlock[at];
          codes[r * cols + c1 + j] = chunkCodes[j * chunkRows + r - r0];
        }
      }
    }

    /** Unstructured: prunes the {@code quota} weights of the block with the smallest w² / U_jj² (ties: first index). */
    private void markLowestSaliency(float[] block, float[] uBlock, int width, boolean[] prunedBlock, int quota) {
      quota = Math.min(quota, block.length);
      if (quota <= 0) {
        return;
      }
      float[] saliency = new float[block.length];
      for (int j = 0; j < width; j++) {
        float diagonal = uBlock[j * width + j];
        for (int r = 0; r < rows; r++) {
          float value = block[j * rows + r];
          saliency[j * rows + r] = value * value / (diagonal * diagonal);
        }
      }
      float threshold = Selection.kthSmallest(saliency.clone(), quota - 1);
      int taken = 0;
      for (int i = 0; i < saliency.length; i++) {
        if (saliency[i] < threshold) {
          prunedBlock[i] = true;
          taken++;
        }
      }
      for (int i = 0; i < saliency.length && taken < quota; i++) {
        if (saliency[i] == threshold) {
          prunedBlock[i] = true;
          taken++;
        }
      }
    }

    /**
     * n:m: in each row, prunes the n smallest-saliency weights among block columns [first, first + m) (a trailing
     * partial group of L columns prunes floor(n·L/m)).
     */
    private void markLowestSaliencyPerRow(float[] block, float[] uBlock, int width, int first, boolean[] prunedBlock,
        int r0, int r1) {
      int length = Math.min(config.nmRatio().m(), width - first);
      int count = config.nmRatio().n() * length / config.nmRatio().m();
      float[] saliency = new float[length];
      for (int r = r0; r < r1; r++) {
        for (int k = 0; k < length; k++) {
          int j = first + k;
          float diagonal = uBlock[j * width + j];
          float value = block[j * rows + r];
          saliency[k] = value * value / (diagonal * diagonal);
        }
        for (int taken = 0; taken < count; taken++) {
          int lowest = -1;
          for (int k = 0; k < length; k++) {
            if (!prunedBlock[(first + k) * rows + r] && (lowest < 0 || saliency[k] < saliency[lowest])) {
              lowest = k;
            }
          }
          prunedBlock[(first + lowest) * rows + r] = true;
        }
      }
    }
  }
}
