package dev.bitsweep.calibrate;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.compress.FieldReader;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Round to nearest on GPTQ's own n-bit grid ({@link RoundToNearest}): the same scales, codes
 * and storage as {@code gptq} with the same nbits, group_size and symmetric, without the error feedback. The
 * baseline a gptq config is compared against, also at bit widths linear_quantize does not offer (2, 3, 5-7).
 *
 * @param nbits bits per weight, 2..8
 * @param groupSize columns sharing a scale within a row; 0 = one scale per output channel
 * @param symmetric signed codes without zero point, else unsigned codes with a zero point
 */
public record RoundToNearestConfig(int nbits, int groupSize, boolean symmetric) implements CompressionConfig {
  public static final String METHOD = "rtn";
  static final List<String> FIELD_NAMES = List.of("method", "nbits", "group_size", "symmetric");

  public RoundToNearestConfig {
    if (nbits < 2 || nbits > 8) {
      throw new ConfigException("nbits", "must be within 2..8, got " + nbits);
    }
    if (groupSize < 0) {
      throw new ConfigException("group_size", "must be 0 (per output channel) or a positive column count, got "
          + groupSize);
    }
  }

  @Override
  public String method() {
    return METHOD;
  }

  @Override
  public Map<String, Object> fields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("method", METHOD);
    fields.put("nbits", nbits);
    fields.put("group_size", groupSize);
    fields.put("symmetric", symmetric);
    return fields;
  }

  public static RoundToNearestConfig fromFields(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(METHOD, fields, FIELD_NAMES);
    Integer nbits = reader.integer("nbits");
    if (nbits == null) {
      throw new ConfigException("nbits", "is required for method rtn (2..8 bits per weight)");
    }
    Integer groupSize = reader.integer("group_size");
    Boolean symmetric = reader.bool("symmetric");
    return new RoundToNearestConfig(nbits, groupSize == null ? 0 : groupSize, symmetric == null || symmetric);
  }
}
