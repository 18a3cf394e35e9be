package dev.bitsweep.calibrate;

import dev.bitsweep.compress.CompressionConfig;
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
    GridFields.check(nbits, groupSize);
  }

  @Override
  public String method() {
    return METHOD;
  }

  @Override
  public Map<String, Object> fields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("method", METHOD);
    GridFields.put(fields, nbits, groupSize, symmetric);
    return fields;
  }

  public static RoundToNearestConfig fromFields(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(METHOD, fields, FIELD_NAMES);
    return new RoundToNearestConfig(GridFields.nbits(reader, METHOD), GridFields.groupSize(reader),
        GridFields.symmetric(reader));
  }
}
