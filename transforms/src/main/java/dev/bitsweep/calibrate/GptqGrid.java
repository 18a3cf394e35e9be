package dev.bitsweep.calibrate;

import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.ScaleDtype;

/**
 * The n-bit uniform grid GPTQ, SparseGPT and {@code rtn} round onto (the GPTQ reference's grid, 2..8 bits). Not
 * {@link dev.bitsweep.compress.LinearQuantizer}, which is coremltools' {@code linear_quantize} (int4/int8 only,
 * symmetric scale max|w| / 127 or / 7 with the most negative code unused); results differ by design, so each
 * method keeps its own grid.
 *
 * <p>Grid: {@code w ≈ (float) (q - zero) * scale}, exactly as
 * {@link dev.bitsweep.compress.QuantizedWeights#decompress()} and ONNX DequantizeLinear decode it.
 *
 * <p>Asymmetric grids span [min(lo, 0), max(hi, 0)] with an integer zero point and unsigned codes 0..2^n-1.
 * Symmetric grids span [-a, a] with a = max|w|, scale = 2a / (2^n - 1) and signed codes -2^(n-1)..2^(n-1)-1, no zero
 * point (the GPTQ reference's grid, shifted by its zero point (2^n)/2). Codes are held in a container type (n ≤ 4
 * INT4/UINT4, else INT8/UINT8) but stored at n bits ({@code QuantizedWeights.codeBits}).
 *
 * <p>With {@code scale_dtype: float16} every scale is rounded to float16 ({@link ScaleDtype#round}) before the zero
 * point and the codes are computed from it, as the GPTQ reference stores its scales.
 */
final class GptqGrid {
  private final int nbits;
  private final boolean symmetric;
  private final int minCode;
  private final int maxCode;
  private final ScaleDtype scaleDtype;

  GptqGrid(int nbits, boolean symmetric) {
    this(nbits, symmetric, ScaleDtype.FLOAT32);
  }

  GptqGrid(int nbits, boolean symmetric, ScaleDtype scaleDtype) {
    if (nbits < 2 || nbits > 8) {
      throw new IllegalArgumentException("grid bits must be within 2..8, got " + nbits);
    }
    this.nbits = nbits;
    this.symmetric = symmetric;
    this.minCode = symmetric ? -(1 << (nbits - 1)) : 0;
    this.maxCode = symmetric ? (1 << (nbits - 1)) - 1 : (1 << nbits) - 1;
    this.scaleDtype = scaleDtype;
  }

  int nbits() {
    return nbits;
  }

  QuantDtype dtype() {
    if (nbits <= 4) {
      return symmetric ? QuantDtype.INT4 : QuantDtype.UINT4;
    }
    return symmetric ? QuantDtype.INT8 : QuantDtype.UINT8;
  }

  boolean symmetric() {
    return symmetric;
  }

  /** Fits the grid to values in [lo, hi]; writes the scale and zero point at {@code index}. */
  void fit(float lo, float hi, float[] scales, int[] zeros, int index) {
    int levels = (1 << nbits) - 1;
    if (symmetric) {
      double amax = Math.max(Math.abs((double) lo), Math.abs((double) hi));
      if (amax == 0) {
        amax = 1;
      }
      scales[index] = scaleDtype.round(Math.max(Float.MIN_NORMAL, (float) (2 * amax / levels)));
      zeros[index] = 0;
    } else {
      double low = Math.min(lo, 0.0);
      double high = Math.max(hi, 0.0);
      if (low == 0 && high == 0) {
        low = -1;
        high = 1;
      }
      // subnormal ranges would round the scale to 0; the smallest normal scale still decodes them to ~0
      float scale = scaleDtype.round(Math.max(Float.MIN_NORMAL, (float) ((high - low) / levels)));
      scales[index] = scale;
      zeros[index] = (int) Math.max(minCode, Math.min(maxCode, Math.rint(-low / scale)));
    }
  }

  /** Fits the grid to {@code count} values of {@code values} starting at {@code from} with the given stride. */
  void fit(float[] values, int from, int count, int stride, float[] scales, int[] zeros, int index) {
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (int k = 0, at = from; k < count; k++, at += stride) {
      lo = Math.min(lo, values[at]);
      hi = Math.max(hi, values[at]);
    }
    fit(lo, hi, scales, zeros, index);
  }

  /** Round half to even, as ONNX QuantizeLinear does, then saturate to the code range. */
  int code(float w, float scale, int zero) {
    double q = Math.rint(w / scale) + zero;
    return (int) Math.max(minCode, Math.min(maxCode, q));
  }

  static float decode(int code, float scale, int zero) {
    return (float) (code - zero) * scale;
  }
}
