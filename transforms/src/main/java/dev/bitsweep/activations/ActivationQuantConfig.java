package dev.bitsweep.activations;

import dev.bitsweep.compress.ConfigException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How activations are quantized (W8A8 and friends): the spec's
 * {@code activations: {dtype: int8|uint8, calibration: minmax|percentile|entropy, percentile: 99.99, symmetric: ...}}.
 *
 * <p>Defaults: int8, minmax, symmetric (coremltools' activation quantization is linear_symmetric). {@code percentile}
 * applies to calibration percentile only (default 99.99) and must lie in (50, 100]. Symmetric means zero point 0
 * (int8) or 128 (uint8) and scale max|range| / 127; asymmetric maps [min(lo, 0), max(hi, 0)] onto the dtype's full
 * code range.
 */
public record ActivationQuantConfig(Dtype dtype, Calibration calibration, Double percentile, boolean symmetric)
    implements Serializable {

  public enum Dtype {
    INT8(-128, 127, 3), UINT8(0, 255, 2);

    private final int min;
    private final int max;
    private final int onnxType;

    Dtype(int min, int max, int onnxType) {
      this.min = min;
      this.max = max;
      this.onnxType = onnxType;
    }

    public int min() {
      return min;
    }

    public int max() {
      return max;
    }

    /** The ONNX TensorProto.DataType of the quantized tensor. */
    public int onnxType() {
      return onnxType;
    }
  }

  public enum Calibration { MINMAX, PERCENTILE, ENTROPY }

  public static final double DEFAULT_PERCENTILE = 99.99;
  public static final List<String> FIELD_NAMES = List.of("dtype", "calibration", "percentile", "symmetric");

  public ActivationQuantConfig {
    if (dtype == null) {
      throw new ConfigException("dtype", "is required; expected one of " + ids(Dtype.values()));
    }
    if (calibration == null) {
      throw new ConfigException("calibration", "is required; expected one of " + ids(Calibration.values()));
    }
    if (calibration != Calibration.PERCENTILE && percentile != null) {
      throw new ConfigException("percentile", "applies only to calibration percentile, not " + id(calibration)
          + "; remove it or set calibration: percentile");
    }
    if (calibration == Calibration.PERCENTILE) {
      percentile = percentile == null ? DEFAULT_PERCENTILE : percentile;
      if (!(percentile > 50 && percentile <= 100)) {
        throw new ConfigException("percentile", "must be in (50, 100] (the share of values kept inside the range, "
            + "in percent, e.g. 99.99), got " + percentile);
      }
    }
  }

  public static ActivationQuantConfig defaults() {
    return new ActivationQuantConfig(Dtype.INT8, Calibration.MINMAX, null, true);
  }

  /**
   * Parses the spec's {@code activations} map; absent or null keys take the defaults. Errors name the field, what
   * was given and what is allowed.
   */
  public static ActivationQuantConfig fromFields(Map<String, Object> fields) {
    for (String key : fields.keySet()) {
      if (!FIELD_NAMES.contains(key)) {
        throw new ConfigException(key, "unknown field for activations; allowed fields are " + FIELD_NAMES
            + suggestion(key));
      }
    }
    Dtype dtype = choice(fields, "dtype", Dtype.values(), Dtype.INT8);
    Calibration calibration = choice(fields, "calibration", Calibration.values(), Calibration.MINMAX);
    Object p = fields.get("percentile");
    if (p != null && !(p instanceof Number)) {
      throw new ConfigException("percentile", "expected a number (e.g. 99.99) but got " + describe(p));
    }
    Object s = fields.get("symmetric");
    if (s != null && !(s instanceof Boolean)) {
      throw new ConfigException("symmetric", "expected true or false but got " + describe(s));
    }
    return new ActivationQuantConfig(dtype, calibration, p == null ? null : ((Number) p).doubleValue(),
        s == null || (Boolean) s);
  }

  /** The fields as the spec writes them (snake_case values). */
  public Map<String, Object> fields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("dtype", id(dtype));
    fields.put("calibration", id(calibration));
    fields.put("percentile", percentile);
    fields.put("symmetric", symmetric);
    return fields;
  }

  private static <E extends Enum<E>> E choice(Map<String, Object> fields, String key, E[] values, E fallback) {
    Object value = fields.get(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof String text)) {
      throw new ConfigException(key, "expected one of " + ids(values) + " but got " + describe(value));
    }
    for (E e : values) {
      if (id(e).equals(text)) {
        return e;
      }
    }
    throw new ConfigException(key, "unknown value '" + text + "'; expected one of " + ids(values));
  }

  private static String suggestion(String key) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String name : FIELD_NAMES) {
      int d = dev.bitsweep.compress.Choices.editDistance(key.toLowerCase(Locale.ROOT), name);
      if (d < bestDistance) {
        bestDistance = d;
        best = name;
      }
    }
    return bestDistance <= 2 ? " (did you mean '" + best + "'?)" : "";
  }

  private static String describe(Object value) {
    return value instanceof String text ? "the string '" + text + "'" : "the value " + value;
  }

  static String id(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  private static List<String> ids(Enum<?>[] values) {
    List<String> ids = new ArrayList<>();
    for (Enum<?> e : values) {
      ids.add(id(e));
    }
    return ids;
  }
}
