package dev.bitsweep.onnx.encode;

import java.util.Arrays;

/**
 * Maps a tensor between its own layout and the canonical one of {@code WeightMatrix}: rows = the output axis moved
 * first, the other axes flattened in their order. Equivalently, the canonical matrix is the tensor transposed to
 * {@link #permutedShape} and viewed as [rows, cols].
 */
public final class CanonicalLayout {
  private final long[] shape;
  private final int outputAxis;
  private final int rows;
  private final int cols;

  public CanonicalLayout(long[] shape, int outputAxis) {
    if (shape.length == 0) {
      throw new IllegalArgumentException("a scalar has no output axis to compress along");
    }
    if (outputAxis < 0 || outputAxis >= shape.length) {
      throw new IllegalArgumentException("output axis " + outputAxis + " is outside a rank-" + shape.length + " tensor");
    }
    long count = 1;
    for (long d : shape) {
      if (d <= 0) {
        throw new IllegalArgumentException("tensor dimensions must be positive and known, got " + Arrays.toString(shape));
      }
      count *= d;
    }
    if (count > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor of " + count + " elements is too large for one weight matrix");
    }
    this.shape = shape.clone();
    this.outputAxis = outputAxis;
    this.rows = (int) shape[outputAxis];
    this.cols = (int) (count / rows);
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  public long[] shape() {
    return shape.clone();
  }

  /** The shape with the output axis moved first. */
  public long[] permutedShape() {
    long[] p = new long[shape.length];
    p[0] = shape[outputAxis];
    int j = 1;
    for (int d = 0; d < shape.length; d++) {
      if (d != outputAxis) {
        p[j++] = shape[d];
      }
    }
    return p;
  }

  /** The Transpose perm from {@link #permutedShape} back to the tensor's own order. */
  public long[] inversePermutation() {
    long[] perm = new long[shape.length];
    for (int d = 0; d < shape.length; d++) {
      perm[d] = d == outputAxis ? 0 : d < outputAxis ? d + 1 : d;
    }
    return perm;
  }

  /** Tensor-order values (row-major in {@code shape}) to canonical [rows, cols]. */
  public float[] toCanonical(float[] tensor) {
    float[] out = new float[tensor.length];
    copy(tensor, out, true);
    return out;
  }

  /** Canonical [rows, cols] values to tensor order. */
  public float[] fromCanonical(float[] canonical) {
    float[] out = new float[canonical.length];
    copy(canonical, out, false);
    return out;
  }

  /** With the tensor viewed as [outer, rows, inner], canonical (r, o * inner + i) is tensor (o, r, i). */
  private void copy(float[] from, float[] to, boolean toCanonical) {
    long inner = 1;
    for (int d = outputAxis + 1; d < shape.length; d++) {
      inner *= shape[d];
    }
    int in = (int) inner;
    int outer = cols / in;
    for (int o = 0; o < outer; o++) {
      for (int r = 0; r < rows; r++) {
        int tensorBase = (o * rows + r) * in;
        int canonicalBase = r * cols + o * in;
        if (toCanonical) {
          System.arraycopy(from, tensorBase, to, canonicalBase, in);
        } else {
          System.arraycopy(from, canonicalBase, to, tensorBase, in);
        }
      }
    }
  }
}
