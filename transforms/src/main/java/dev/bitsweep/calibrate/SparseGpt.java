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
 *   <li>unstructured: at the start of each lazy batch of {@code lazy_batch_size} columns, over the whole batch (every
 *       row), the batch's share of the target count with the smallest saliency (so the layer's total is exact);
 *   <li>n:m: at every m-th column, the n smallest-saliency weights of each row among the next m columns, using the
 *       weights as already updated by earlier columns.
 * </ul>
 * Dead inputs (H_ii = 0) get H_ii = 1 and weight 0, so they are pruned first. With joint quantization each row's
 * grid is fit once to its original weights and every kept weight is rounded to it when reached, so its rounding
 * error is fed back too; pruned weights decode to exactly 0. The loop itself is {@link ColumnSweep}.
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
    GptqGrid grid = config.quantizes() ? new GptqGrid(config.nbits(), config.symmetric(), config.scaleDtype()) : null;
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
          HessianGroupPruner part = new HessianGroupPruner(groupWeights, groupRows, cols, grid,
              targetThrough - targetBefore);
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
            grid.symmetric() ? null : zeros, grid.nbits());
    return new Result(new SparseWeights(rows, cols, SparseWeights.keptMask(pruned), kept), percdampUsed);
  }

  public Result prune(WeightMatrix w, double[] hessian) {
    return prune("layer", w, hessian);
  }

  /**
   * SparseGPT's part of Algorithm 1 for the rows of one Hessian group: choose the mask by OBS saliency, prune (and
   * round, with joint quantization). On return {@code weights} holds the final (reconstructed) values.
   */
  private final class HessianGroupPruner implements ColumnSweep.ColumnRule {
    final float[] weights;
    final int rows;
    final int cols;
    final GptqGrid grid;
    final long pruneCount;
    final boolean[] pruned;
    final byte[] codes;
    final float[] scales;
    final int[] zeros;
    /** The current batch's mask and codes, laid out like its values. */
    private boolean[] prunedBatch;
    private byte[] batchCodes;

    HessianGroupPruner(float[] weights, int rows, int cols, GptqGrid grid, long pruneCount) {
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
      return ColumnSweep.sweep(layer, weights, rows, cols, hessian, identity, config.percdamp(), this);
    }

    @Override
    public int batchEnd(int c1) {
      return Math.min(cols, c1 + config.lazyBatchSize());
    }

    /** Unstructured: the batch's share of the target count, over the whole batch. */
    @Override
    public void startBatch(ColumnSweep.LazyBatch batch) {
      prunedBatch = new boolean[batch.values.length];
      batchCodes = new byte[batch.values.length];
      if (!config.structured()) {
        long quota = shareOfTarget(batch.end) - shareOfTarget(batch.first);
        markLowestSaliency(batch.values, batch.u, batch.width, prunedBatch, (int) quota);
      }
    }

    /** n:m: at every m-th column, per row, among the next m columns as updated so far. */
    @Override
    public void startColumn(ColumnSweep.LazyBatch batch, int j, int r0, int r1) {
      if (config.structured() && j % config.nmRatio().m() == 0) {
        markLowestSaliencyPerRow(batch.values, batch.u, batch.width, j, prunedBatch, r0, r1);
      }
    }

    @Override
    public float fix(ColumnSweep.LazyBatch batch, int j, int r, int at, float value) {
      float kept = prunedBatch[at] ? 0f : value;
      if (grid != null) {
        int code = grid.code(kept, scales[r], zeros[r]);
        batchCodes[at] = (byte) code;
        kept = GptqGrid.decode(code, scales[r], zeros[r]);
      }
      return kept;
    }

    @Override
    public void endBatch(ColumnSweep.LazyBatch batch, int r0, int r1) {
      int c1 = batch.first;
      for (int r = r0; r < r1; r++) {
        for (int j = 0; j < batch.width; j++) {
          int at = j * rows + r;
          weights[r * cols + c1 + j] = batch.values[at];
          pruned[r * cols + c1 + j] = prunedBatch[at];
          codes[r * cols + c1 + j] = batchCodes[at];
        }
      }
    }

    /** Pruned weights among columns [0, column): the target spread evenly over the columns. */
    private long shareOfTarget(int column) {
      return Math.round((double) pruneCount * column / cols);
    }

    /** Unstructured: prunes the {@code quota} weights of the batch with the smallest w² / U_jj² (ties: first index). */
    private void markLowestSaliency(float[] batch, float[] uBatch, int width, boolean[] prunedBatch, int quota) {
      quota = Math.min(quota, batch.length);
      if (quota <= 0) {
        return;
      }
      float[] saliency = new float[batch.length];
      for (int j = 0; j < width; j++) {
        float diagonal = uBatch[j * width + j];
        for (int r = 0; r < rows; r++) {
          float value = batch[j * rows + r];
          saliency[j * rows + r] = value * value / (diagonal * diagonal);
        }
      }
      float threshold = Selection.kthSmallest(saliency.clone(), quota - 1);
      int taken = 0;
      for (int i = 0; i < saliency.length; i++) {
        if (saliency[i] < threshold) {
          prunedBatch[i] = true;
          taken++;
        }
      }
      for (int i = 0; i < saliency.length && taken < quota; i++) {
        if (saliency[i] == threshold) {
          prunedBatch[i] = true;
          taken++;
        }
      }
    }

    /**
     * n:m: in each row, prunes the n smallest-saliency weights among batch columns [first, first + m) (a trailing
     * partial group of L columns prunes floor(n·L/m)).
     */
    private void markLowestSaliencyPerRow(float[] batch, float[] uBatch, int width, int first, boolean[] prunedBatch,
        int r0, int r1) {
      int length = Math.min(config.nmRatio().m(), width - first);
      int count = config.nmRatio().n() * length / config.nmRatio().m();
      float[] saliency = new float[length];
      for (int r = r0; r < r1; r++) {
        for (int k = 0; k < length; k++) {
          int j = first + k;
          float diagonal = uBatch[j * width + j];
          float value = batch[j * rows + r];
          saliency[k] = value * value / (diagonal * diagonal);
        }
        for (int taken = 0; taken < count; taken++) {
          int lowest = -1;
          for (int k = 0; k < length; k++) {
            if (!prunedBatch[(first + k) * rows + r] && (lowest < 0 || saliency[k] < saliency[lowest])) {
              lowest = k;
            }
          }
          prunedBatch[(first + lowest) * rows + r] = true;
        }
      }
    }
  }
}
