package dev.bitsweep.compress;

import java.util.stream.IntStream;

/**
 * Linear quantization {@code q = clamp(rint(w / scale) + zero_point, qmin, qmax)}, decoded as
 * {@code (float) (q - zero_point) * scale}; {@code w / scale} is a float division and {@link Math#rint} rounds half
 * to even, exactly as ONNX QuantizeLinear does.
 *
 * <p>Conventions (per tensor, row or block of a row):
 * <ul>
 *   <li>{@code linear_symmetric}: {@code scale = max|w| / R} with R = 127 for int8/uint8 and 7 for int4/uint4, so the
 *       codes are symmetric around the zero point: 0 for signed types (the most negative code is never used), the
 *       middle code 128 (uint8) or 8 (uint4) for unsigned types.</li>
 *   <li>{@code linear}: the range [min(w, 0), max(w, 0)] is mapped onto [qmin, qmax]:
 *       {@code scale = (max - min) / (qmax - qmin)}, {@code zero_point = clamp(rint(qmin - min / scale))}.</li>
 *   <li>A range of all zeros gets scale 1; scales are computed in double and rounded to float once (with
 *       {@code scale_dtype: float16}, then to float16, before the zero point and codes are computed).</li>
 * </ul>
 * GPTQ, SparseGPT and {@code rtn} use another grid ({@code dev.bitsweep.calibrate.GptqGrid}: 2..8 bits, symmetric
 * scale 2·max|w| / (2^n - 1)).
 */
public final class LinearQuantizer {
  private LinearQuantizer() {}

  /** One scale and zero point. */
  record Params(float scale, int zeroPoint) {}

  public static QuantizedWeights quantize(LinearQuantizeConfig config, WeightMatrix weights) {
    WeightChecks.requireFinite(weights);
    config.validateFor(weights.rows(), weights.cols());
    int rows = weights.rows();
    int cols = weights.cols();
    QuantDtype dtype = config.dtype();
    boolean symmetric = config.mode() == LinearQuantizeConfig.Mode.LINEAR_SYMMETRIC;
    int span = switch (config.granularity()) {
      case PER_TENSOR -> cols;
      case PER_CHANNEL -> cols;
      case PER_BLOCK -> config.blockSize();
    };
    int blocksPerRow = QuantizedWeights.blocksPerRow(cols, span);
    float[] values = weights.values();
    boolean perTensor = config.granularity() == LinearQuantizeConfig.Granularity.PER_TENSOR;
    int scaleCount = perTensor ? 1 : rows * blocksPerRow;
    float[] scales = new float[scaleCount];
    int[] zeroPoints = new int[scaleCount];
    if (perTensor) {
      float[] range = range(values, 0, values.length);
      Params params = parameters(range[0], range[1], symmetric, dtype, config.scaleDtype());
      scales[0] = params.scale();
      zeroPoints[0] = params.zeroPoint();
    }
    byte[] codes = new byte[values.length];
    // rows are independent: each block's parameters, then its codes, while the block is in cache
    IntStream.range(0, rows).parallel().forEach(r -> {
      for (int b = 0; b < blocksPerRow; b++) {
        int from = r * cols + b * span;
        int to = r * cols + Math.min(cols, (b + 1) * span);
        int s = perTensor ? 0 : r * blocksPerRow + b;
        if (!perTensor) {
          float min = Float.POSITIVE_INFINITY;
          float max = Float.NEGATIVE_INFINITY;
          for (int i = from; i < to; i++) {
            float v = values[i];
            min = v < min ? v : min; // finite weights: plain comparisons suffice
            max = v > max ? v : max;
          }
          Params params = parameters(min, max, symmetric, dtype, config.scaleDtype());
          scales[s] = params.scale();
          zeroPoints[s] = params.zeroPoint();
        }
        float scale = scales[s];
        int zeroPoint = zeroPoints[s];
        for (int i = from; i < to; i++) {
          codes[i] = (byte) code(values[i], scale, zeroPoint, dtype);
        }
      }
    });
    QuantizedWeights.Granularity granularity = switch (config.granularity()) {
      case PER_TENSOR -> QuantizedWeights.Granularity.PER_TENSOR;
      case PER_CHANNEL -> QuantizedWeights.Granularity.PER_CHANNEL;
      case PER_BLOCK -> QuantizedWeights.Granularity.PER_BLOCK;
    };
    boolean allZeroPointsZero = true;
    for (int zeroPoint : zeroPoints) {
      allZeroPointsZero &= zeroPoint == 0;
    }
    return new QuantizedWeights(rows, cols, dtype, granularity,
        granularity == QuantizedWeights.Granularity.PER_BLOCK ? span : 0, codes, scales,
        symmetric && allZeroPointsZero ? null : zeroPoints);
  }

  /** {min, max} of values[from, to); finite weights, so plain comparisons suffice. */
  private static float[] range(float[] values, int from, int to) {
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (int i = from; i < to; i++) {
      float v = values[i];
      min = v < min ? v : min;
      max = v > max ? v : max;
    }
    return new float[] {min, max};
  }

  static Params parameters(double min, double max, boolean symmetric, QuantDtype dtype) {
    return parameters(min, max, symmetric, dtype, ScaleDtype.FLOAT32);
  }

  static Params parameters(double min, double max, boolean symmetric, QuantDtype dtype, ScaleDtype scaleDtype) {
    return symmetric ? symmetric(Math.max(Math.abs(min), Math.abs(max)), dtype, scaleDtype)
        : affine(min, max, dtype, scaleDtype);
  }

  static Params symmetric(double maxAbs, QuantDtype dtype) {
    return symmetric(maxAbs, dtype, ScaleDtype.FLOAT32);
  }

  static Params symmetric(double maxAbs, QuantDtype dtype, ScaleDtype scaleDtype) {
    int zeroPoint = dtype.signed() ? 0 : 1 << (dtype.bits() - 1);
    int halfRange = dtype.max() - zeroPoint;
    return new Params(scaleDtype.round(positiveScale(maxAbs / halfRange, maxAbs)), zeroPoint);
  }

  static Params affine(double min, double max, QuantDtype dtype) {
    return affine(min, max, dtype, ScaleDtype.FLOAT32);
  }

  static Params affine(double min, double max, QuantDtype dtype, ScaleDtype scaleDtype) {
    double low = Math.min(min, 0);
    double high = Math.max(max, 0);
    float scale = scaleDtype.round(positiveScale((high - low) / (dtype.max() - dtype.min()), high - low));
    int zeroPoint = (int) Math.max(dtype.min(), Math.min(dtype.max(), Math.rint(dtype.min() - low / scale)));
    return new Params(scale, zeroPoint);
  }

  /** The scale as a float; 1 for an all-zero range, the smallest float when it would underflow to 0. */
  private static float positiveScale(double scale, double range) {
    if (range == 0) {
      return 1f;
    }
    float rounded = (float) scale;
    return rounded > 0 ? rounded : Float.MIN_VALUE;
  }

  static int code(float value, float scale, int zeroPoint, QuantDtype dtype) {
    long q = (long) Math.rint(value / scale) + zeroPoint;
    return (int) (q < dtype.min() ? dtype.min() : Math.min(q, dtype.max()));
  }

  static float decode(int code, float scale, int zeroPoint) {
    return (float) (code - zeroPoint) * scale;
  }
}
