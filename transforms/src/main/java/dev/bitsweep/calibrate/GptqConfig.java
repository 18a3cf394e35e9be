package dev.bitsweep.calibrate;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.compress.FieldReader;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPTQ (Frantar et al., 2022): quantize a layer column by column, feeding each column's rounding error back into the
 * columns not yet quantized through the inverse Hessian of the layer's inputs.
 *
 * @param nbits bits per weight, 2..8 (codes stored as INT4/UINT4 up to 4 bits, else INT8/UINT8)
 * @param groupSize the quantization group: columns sharing one scale (and zero point) within a row; 0 = one per
 *     output channel
 * @param symmetric signed codes without zero point; otherwise unsigned codes with a per-scale zero point
 * @param lazyBatchSize columns per lazy batch (the error feedback to later columns is applied once per batch)
 * @param percdamp damping added to the Hessian's diagonal, as a fraction of its mean diagonal; raised tenfold
 *     automatically (up to 3 times) when the Cholesky factorization fails
 * @param actOrder process columns by descending Hessian diagonal; with groups, scales are fit per group of
 *     consecutive original columns before quantization starts ("static groups") so they stay storable
 */
public record GptqConfig(int nbits, int groupSize, boolean symmetric, int lazyBatchSize, double percdamp,
    boolean actOrder) implements CompressionConfig {
  public static final String METHOD = "gptq";
  public static final int DEFAULT_LAZY_BATCH_SIZE = ColumnSweepFields.DEFAULT_LAZY_BATCH_SIZE;
  public static final double DEFAULT_PERCDAMP = ColumnSweepFields.DEFAULT_PERCDAMP;
  static final List<String> FIELD_NAMES = List.of("method", "nbits", "group_size", "symmetric",
      ColumnSweepFields.LAZY_BATCH_SIZE, "percdamp", "act_order");

  public GptqConfig {
    if (nbits < 2 || nbits > 8) {
      throw new ConfigException("nbits", "must be within 2..8, got " + nbits);
    }
    if (groupSize < 0) {
      throw new ConfigException("group_size", "must be 0 (per output channel) or a positive column count, got "
          + groupSize);
    }
    ColumnSweepFields.check(lazyBatchSize, percdamp);
  }

  /** {@code nbits} and {@code groupSize} with the defaults: symmetric, lazy batch 128, percdamp 0.01, no act_order. */
  public static GptqConfig of(int nbits, int groupSize) {
    return new GptqConfig(nbits, groupSize, true, DEFAULT_LAZY_BATCH_SIZE, DEFAULT_PERCDAMP, false);
  }

  public GptqConfig withPercdamp(double value) {
    return new GptqConfig(nbits, groupSize, symmetric, lazyBatchSize, value, actOrder);
  }

  public GptqConfig withLazyBatchSize(int value) {
    return new GptqConfig(nbits, groupSize, symmetric, value, percdamp, actOrder);
  }

  /** The inverse of {@link #fields()}; absent fields take the defaults, {@code nbits} is required. */
  public static GptqConfig fromFields(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(METHOD, fields, FIELD_NAMES, ColumnSweepFields.RENAMED);
    Integer nbits = reader.integer("nbits");
    if (nbits == null) {
      throw new ConfigException("nbits", "is required for method gptq (2..8 bits per weight)");
    }
    return new GptqConfig(nbits, FieldReader.orElse(reader.integer("group_size"), 0),
        FieldReader.orElse(reader.bool("symmetric"), true),
        FieldReader.orElse(reader.integer(ColumnSweepFields.LAZY_BATCH_SIZE), DEFAULT_LAZY_BATCH_SIZE),
        FieldReader.orElse(reader.number("percdamp"), DEFAULT_PERCDAMP),
        FieldReader.orElse(reader.bool("act_order"), false));
  }

  @Override
  public String method() {
    return METHOD;
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Map<String, Object> fields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("method", METHOD);
    fields.put("nbits", nbits);
    fields.put("group_size", groupSize);
    fields.put("symmetric", symmetric);
    fields.put(ColumnSweepFields.LAZY_BATCH_SIZE, lazyBatchSize);
    fields.put("percdamp", percdamp);
    fields.put("act_order", actOrder);
    return Collections.unmodifiableMap(fields);
  }
}
