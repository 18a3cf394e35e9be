package dev.bitsweep.calibrate;

import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.compress.FieldReader;
import dev.bitsweep.compress.ScaleDtype;
import java.util.Map;

/**
 * The config fields of the n-bit grid ({@link GptqGrid}) that {@code gptq} and {@code rtn} round onto, with one
 * meaning in both: {@code nbits} (2..8, required), {@code group_size} (columns sharing a scale within a row, 0 = one
 * per output channel), {@code symmetric} (default true) and {@code scale_dtype} (float32, the default, or float16).
 */
final class GridFields {
  private GridFields() {}

  static void check(int nbits, int groupSize) {
    if (nbits < 2 || nbits > 8) {
      throw new ConfigException("nbits", "must be within 2..8, got " + nbits);
    }
    if (groupSize < 0) {
      throw new ConfigException("group_size", "must be 0 (per output channel) or a positive column count, got "
          + groupSize);
    }
  }

  static int nbits(FieldReader reader, String method) {
    Integer nbits = reader.integer("nbits");
    if (nbits == null) {
      throw new ConfigException("nbits", "is required for method " + method + " (2..8 bits per weight)");
    }
    return nbits;
  }

  static int groupSize(FieldReader reader) {
    return FieldReader.orElse(reader.integer("group_size"), 0);
  }

  static boolean symmetric(FieldReader reader) {
    return FieldReader.orElse(reader.bool("symmetric"), true);
  }

  static ScaleDtype scaleDtype(FieldReader reader) {
    return FieldReader.orElse(reader.choice(SCALE_DTYPE, ScaleDtype.values()), ScaleDtype.FLOAT32);
  }

  static final String SCALE_DTYPE = "scale_dtype";

  static void put(Map<String, Object> fields, int nbits, int groupSize, boolean symmetric) {
    fields.put("nbits", nbits);
    fields.put("group_size", groupSize);
    fields.put("symmetric", symmetric);
  }

  static void putScaleDtype(Map<String, Object> fields, ScaleDtype scaleDtype) {
    fields.put(SCALE_DTYPE, dev.bitsweep.compress.Choices.id(scaleDtype));
  }
}
