package dev.bitsweep.calibrate;

import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.CblasUpper;
import static org.bytedeco.openblas.global.openblas.cblas_dsyrk;

import java.io.Serializable;
import java.util.Objects;
import org.bytedeco.javacpp.DoublePointer;

/**
 * Accumulates a layer's {@link LayerStatistics} from activation rows: H += XᵀX in float64 (a rank-k update through
 * BLAS dsyrk per batch of rows), the row count and the activation range. MatMul/Gemm: one row per token, the last
 * axis of the layer's input. Conv: {@link #addConvInput} turns the NCHW input into patch rows per group
 * ({@link Im2col}). Mutable and serializable, so it can serve as a Beam CombineFn accumulator; {@link #merge} sums.
 * Non-finite activations are rejected: they would silently poison every later sum.
 */
public final class HessianAccumulator implements Serializable {
  private static final long serialVersionUID = 1L;
  /** Rows per dsyrk call: bounds the native copy of the rows (8 MiB at dim 512). */
  private static final int ROWS_PER_UPDATE = 2048;

  private final String layer;
  private final int dim;
  private final int groups;
  /** Upper triangle only while accumulating (the lower entries stay 0); mirrored in {@link #toStatistics()}. */
  final double[] upper;
  long rows;
  double min = Double.POSITIVE_INFINITY;
  double max = Double.NEGATIVE_INFINITY;

  /** For a layer whose weight matrix has {@code dim} columns; {@code groups} > 1 only for grouped convs. */
  public HessianAccumulator(String layer, int dim, int groups) {
    dev.bitsweep.nativemath.NativeMathCheck.ensure();
    this.layer = Objects.requireNonNull(layer, "layer");
    if (dim <= 0 || groups <= 0) {
      throw new IllegalArgumentException(layer + ": input dimension and group count must be positive, got " + dim
          + " and " + groups);
    }
    this.dim = dim;
    this.groups = groups;
    this.upper = new double[groups * dim * dim];
  }

  public static HessianAccumulator forMatMul(String layer, int dim) {
    return new HessianAccumulator(layer, dim, 1);
  }

  /** {@code count} rows of {@code dim} values (row-major) from {@code data}; for ungrouped layers. */
  public void addRows(float[] data, int count) {
    addRows(0, data, count);
  }

  /** {@code count} activation rows of conv group {@code group}. */
  public void addRows(int group, float[] data, int count) {
    if (group < 0 || group >= groups) {
      throw new IllegalArgumentException(layer + ": group " + group + " out of range 0.." + (groups - 1));
    }
    if ((long) count * dim > data.length) {
      throw new IllegalArgumentException(layer + ": " + count + " rows of " + dim + " inputs need "
          + (long) count * dim + " values, got " + data.length + "; is this the layer's input activation?");
    }
    requireFinite(data, count * dim, dim, "activation rows", "row");
    for (int first = 0; first < count; first += ROWS_PER_UPDATE) {
      int batch = Math.min(ROWS_PER_UPDATE, count - first);
      rankUpdate(group, data, first * dim, batch);
    }
    rows += count;
  }

  /**
   * A Conv layer's input activation [N, C, H, W] (flattened): every image's patch rows, each group into its own
   * Hessian. {@code dim} must be (C / groups) * kh * kw.
   */
  public void addConvInput(float[] input, int[] nchw, Im2col.Geometry conv) {
    if (nchw.length != 4 || (long) nchw[0] * nchw[1] * nchw[2] * nchw[3] != input.length) {
      throw new IllegalArgumentException(layer + ": conv input must be NCHW with " + input.length
          + " values, got shape " + java.util.Arrays.toString(nchw));
    }
    if (conv.groups() != groups || conv.patchSize(nchw[1]) != dim) {
      throw new IllegalArgumentException(layer + ": conv input with " + nchw[1] + " channels and " + conv
          + " gives patches of " + conv.patchSize(nchw[1]) + " values in " + conv.groups() + " groups; the "
          + "accumulator expects " + dim + " in " + groups);
    }
    requireFinite(input, input.length, input.length / nchw[0], "conv input", "image");
    int positions = conv.outputHeight(nchw[2]) * conv.outputWidth(nchw[3]);
    for (int image = 0; image < nchw[0]; image++) {
      for (int g = 0; g < groups; g++) {
        float[] patches = Im2col.patches(input, nchw[1], nchw[2], nchw[3], image, conv, g);
        for (int first = 0; first < positions; first += ROWS_PER_UPDATE) {
          rankUpdate(g, patches, first * dim, Math.min(ROWS_PER_UPDATE, positions - first));
        }
      }
    }
    rows += (long) nchw[0] * positions;
  }

  /** Adds a partial of the same layer (from another worker or batch). */
  public void add(LayerStatistics partial) {
    if (!layer.equals(partial.layer()) || dim != partial.dim() || groups != partial.groups()) {
      throw new IllegalArgumentException("cannot add statistics of " + partial.layer() + " (dim " + partial.dim()
          + ", groups " + partial.groups() + ") to " + layer + " (dim " + dim + ", groups " + groups + ")");
    }
    double[] h = partial.hessian();
    for (int g = 0; g < groups; g++) {
      int base = g * dim * dim;
      for (int i = 0; i < dim; i++) {
        for (int j = i; j < dim; j++) {
          upper[base + i * dim + j] += h[base + i * dim + j];
        }
      }
    }
    rows += partial.rows();
    min = Math.min(min, partial.min());
    max = Math.max(max, partial.max());
  }

  /** Sums {@code other} into this accumulator. */
  public HessianAccumulator merge(HessianAccumulator other) {
    if (!layer.equals(other.layer) || dim != other.dim || groups != other.groups) {
      throw new IllegalArgumentException("cannot merge statistics of " + other.layer + " (dim " + other.dim
          + ", groups " + other.groups + ") into " + layer + " (dim " + dim + ", groups " + groups + ")");
    }
    for (int i = 0; i < upper.length; i++) {
      upper[i] += other.upper[i];
    }
    rows += other.rows;
    min = Math.min(min, other.min);
    max = Math.max(max, other.max);
    return this;
  }

  public long rows() {
    return rows;
  }

  public String layer() {
    return layer;
  }

  public int dim() {
    return dim;
  }

  public int groups() {
    return groups;
  }

  /** The bytes of the Hessian values this accumulator holds: {@code 8 * groups * dim²}. */
  public static long bytes(int dim, int groups) {
    return 8L * groups * dim * dim;
  }

  /**
   * The bytes one rank update allocates on top of the accumulator while it runs: the float64 copy of up to 2048
   * rows (heap and native), the dim² product (native only) and one row of it (heap); freed when it returns.
   */
  public static long updateBytes(int dim) {
    return 2 * 8L * ROWS_PER_UPDATE * dim + 8L * dim * dim + 8L * dim;
  }

  /** The statistics so far, with each group's Hessian as a full symmetric matrix. */
  public LayerStatistics toStatistics() {
    double[] full = upper.clone();
    for (int g = 0; g < groups; g++) {
      int base = g * dim * dim;
      for (int i = 0; i < dim; i++) {
        for (int j = i + 1; j < dim; j++) {
          full[base + j * dim + i] = full[base + i * dim + j];
        }
      }
    }
    return new LayerStatistics(layer, dim, groups, rows, min, max, full);
  }

  private void rankUpdate(int group, float[] data, int offset, int count) {
    double[] x = new double[count * dim];
    for (int i = 0; i < x.length; i++) {
      x[i] = data[offset + i];
    }
    int base = group * dim * dim;
    // the product stays native and is read back one row at a time: no second dim² array on the heap
    double[] row = new double[dim];
    try (DoublePointer rowsPointer = new DoublePointer(x); DoublePointer result = new DoublePointer((long) dim * dim)) {
      cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, dim, count, 1.0, rowsPointer, dim, 0.0, result, dim);
      for (int i = 0; i < dim; i++) {
        result.position((long) i * dim + i).get(row, 0, dim - i);
        for (int j = i; j < dim; j++) {
          upper[base + i * dim + j] += row[j - i];
        }
      }
      result.position(0);
    }
  }

  private void requireFinite(float[] data, int count, int perItem, String what, String item) {
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < count; i++) {
      float v = data[i];
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException(layer + ": " + what + " contain " + v + " at index " + i + " (" + item + " "
            + i / perItem + " of this batch); the model produced non-finite activations on this calibration sample, "
            + "check the calibration data and its preprocessing");
      }
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (count > 0) {
      min = Math.min(min, lo);
      max = Math.max(max, hi);
    }
  }
}
