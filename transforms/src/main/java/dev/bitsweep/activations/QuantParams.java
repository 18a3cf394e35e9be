package dev.bitsweep.activations;

import java.io.Serializable;

/**
 * One tensor's QuantizeLinear parameters: {@code q = clamp(rint(x / scale) + zeroPoint)},
 * {@code x' = (q - zeroPoint) * scale}, rounding half to even as ONNX QuantizeLinear does.
 */
public record QuantParams(float scale, int zeroPoint, ActivationQuantConfig.Dtype dtype) implements Serializable {

  /**
   * The parameters for a calibrated range [lo, hi]. The range is widened to hold 0 (so that 0, the padding and
   * Relu value, is exact). Symmetric: scale = max(|lo|, |hi|) / 127, zero point 0 (int8) or 128 (uint8).
   * Asymmetric: scale = (hi - lo) / (qmax - qmin), zero point = rint(qmin - lo / scale) clamped to the code range.
   * An all-zero range gets scale 1.
   */
  public static QuantParams of(double lo, double hi, ActivationQuantConfig config) {
    ActivationQuantConfig.Dtype dtype = config.dtype();
    double rmin = Math.min(lo, 0);
    double rmax = Math.max(hi, 0);
    if (config.symmetric()) {
      double absMax = Math.max(-rmin, rmax);
      float scale = absMax == 0 ? 1f : (float) (absMax / 127);
      return new QuantParams(scale, dtype == ActivationQuantConfig.Dtype.INT8 ? 0 : 128, dtype);
    }
    if (rmax == rmin) {
      return new QuantParams(1f, (int) Math.max(dtype.min(), 0), dtype);
    }
    float scale = (float) ((rmax - rmin) / (dtype.max() - dtype.min()));
    long zeroPoint = (long) Math.rint(dtype.min() - rmin / scale);
    zeroPoint = Math.max(dtype.min(), Math.min(dtype.max(), zeroPoint));
    return new QuantParams(scale, (int) zeroPoint, dtype);
  }

  /** QuantizeLinear of one value (float32 division, then round half to even, saturate). */
  public int quantize(float x) {
    double q = Math.rint(x / scale) + zeroPoint;
    return (int) Math.max(dtype.min(), Math.min(dtype.max(), q));
  }

  /** DequantizeLinear of one code. */
  public float dequantize(int q) {
    return (q - zeroPoint) * scale;
  }
}
