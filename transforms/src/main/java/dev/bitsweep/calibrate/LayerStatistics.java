package dev.bitsweep.calibrate;

import java.io.Serializable;
import java.util.Objects;

/**
 * One layer's calibration statistics: the input Hessian H = Σ xᵀx over every activation row (float64, one
 * {@code dim x dim} row-major matrix per conv group, see {@link Hessians}), how many rows went in, and the range of
 * the raw input activations. Partial statistics from different workers or batches {@link #merge} by summing.
 *
 * <p>The Hessian array is shared, not copied (layers reach 4096² values): treat it as read-only.
 */
public final class LayerStatistics implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String layer;
  private final int dim;
  private final int groups;
  private final long rows;
  private final double min;
  private final double max;
  private final double[] hessian;

  public LayerStatistics(String layer, int dim, int groups, long rows, double min, double max, double[] hessian) {
    this.layer = Objects.requireNonNull(layer, "layer");
    if (dim <= 0 || groups <= 0 || rows < 0) {
      throw new IllegalArgumentException(layer + ": statistics need a positive input dimension and group count, got "
          + "dim " + dim + ", groups " + groups + ", rows " + rows);
    }
    if (hessian.length != (long) groups * dim * dim) {
      throw new IllegalArgumentException(layer + ": expected " + (long) groups * dim * dim + " Hessian values ("
          + groups + " x " + dim + "²), got " + hessian.length);
    }
    this.dim = dim;
    this.groups = groups;
    this.rows = rows;
    this.min = min;
    this.max = max;
    this.hessian = hessian;
  }

  public String layer() {
    return layer;
  }

  /** The input dimension: the weight matrix's column count. */
  public int dim() {
    return dim;
  }

  public int groups() {
    return groups;
  }

  /** Activation rows (tokens, or conv output positions per group) accumulated. */
  public long rows() {
    return rows;
  }

  /** Smallest raw input activation seen (+∞ when no rows). */
  public double min() {
    return min;
  }

  /** Largest raw input activation seen (-∞ when no rows). */
  public double max() {
    return max;
  }

  /** H for all groups, back to back; read-only by convention. */
  public double[] hessian() {
    return hessian;
  }

  /** The sum of two partials of the same layer. */
  public LayerStatistics merge(LayerStatistics other) {
    requireSameShape(other);
    double[] sum = hessian.clone();
    for (int i = 0; i < sum.length; i++) {
      sum[i] += other.hessian[i];
    }
    return new LayerStatistics(layer, dim, groups, rows + other.rows, Math.min(min, other.min),
        Math.max(max, other.max), sum);
  }

  private void requireSameShape(LayerStatistics other) {
    if (!layer.equals(other.layer) || dim != other.dim || groups != other.groups) {
      throw new IllegalArgumentException("cannot merge statistics of " + other.layer + " (dim " + other.dim
          + ", groups " + other.groups + ") into " + layer + " (dim " + dim + ", groups " + groups + ")");
    }
  }
}
