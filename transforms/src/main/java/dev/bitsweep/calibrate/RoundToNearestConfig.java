package dev.bitsweep.calibrate;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.FieldReader;
import dev.bitsweep.compress.ScaleDtype;
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
 * @param scaleDtype float32 (default) or float16 scales, as {@code gptq}'s
 */
public record RoundToNearestConfig(int nbits, int groupSize, boolean symmetric, ScaleDtype scaleDtype)
    implements CompressionConfig {
  public static final String METHOD = "rtn";
  static final List<String> FIELD_NAMES = List.of("method", "nbits", "group_size", "symmetric", GridFields.SCALE_DTYPE);

  public RoundToNearestConfig {
    GridFields.check(nbits, groupSize);
    scaleDtype = scaleDtype == null ? ScaleDtype.FLOAT32 : scaleDtype;
  }

  /** Float32 scales. */
  public RoundToNearestConfig(int nbits, int groupSize, boolean symmetric) {
    this(nbits, groupSize, symmetric, ScaleDtype.FLOAT32);
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
    GridFields.putScaleDtype(fields, scaleDtype);
    return fields;
  }

  public static RoundToNearestConfig fromFields(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(METHOD, fields, FIELD_NAMES);
    return new RoundToNearestConfig(GridFields.nbits(reader, METHOD), GridFields.groupSize(reader),
        GridFields.symmetric(reader), GridFields.scaleDtype(reader));
  }
}
