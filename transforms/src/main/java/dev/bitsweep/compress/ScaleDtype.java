package dev.bitsweep.compress;

/**
 * The type quantization scales are computed in and stored as. {@code float16} rounds every scale to the nearest
 * half-precision value before the codes are computed against it, so the decode is exact with 2-byte scales (int4
 * per-block 32 takes 4.5 bits per weight, not 5); {@code float32} keeps the full-precision scale.
 */
public enum ScaleDtype {
  FLOAT32,
  FLOAT16;

  /** The smallest positive float16 value (a subnormal). */
  private static final float MIN_FLOAT16 = 0x1p-24f;

  /**
   * The scale as this type stores it: unchanged for float32; for float16 the nearest half-precision value, at
   * least the smallest positive one (a scale never becomes 0).
   *
   * @throws IllegalArgumentException when the scale exceeds float16's range
   */
  public float round(float scale) {
    if (this == FLOAT32) {
      return scale;
    }
    if (scale > Float16.MAX_VALUE) {
      throw new IllegalArgumentException("scale " + scale + " is larger than float16's maximum " + Float16.MAX_VALUE
          + " (weights this large need scale_dtype: float32)");
    }
    return Math.max(MIN_FLOAT16, Float16.toFloat(Float16.fromFloat(scale)));
  }

  /** Whether every value is exactly a float16 value (then 2 bytes store it losslessly). */
  public static boolean allFloat16(float[] values) {
    for (float v : values) {
      if (Float.floatToRawIntBits(Float16.toFloat(Float16.fromFloat(v))) != Float.floatToRawIntBits(v)) {
        return false;
      }
    }
    return true;
  }
}
