package dev.bitsweep.calibrate;

import dev.bitsweep.compress.FieldReader;
import dev.bitsweep.compress.ScaleDtype;
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
 * @param scaleDtype float32 (default) or float16: scales rounded to float16 before the codes are computed against
 *     them, and stored in 2 bytes
 */
public record GptqConfig(int nbits, int groupSize, boolean symmetric, int lazyBatchSize, double percdamp,
    boolean actOrder, ScaleDtype scaleDtype) implements ColumnSweepConfig {
  public static final String METHOD = "gptq";
  public static final int DEFAULT_LAZY_BATCH_SIZE = ColumnSweepFields.DEFAULT_LAZY_BATCH_SIZE;
  public static final double DEFAULT_PERCDAMP = ColumnSweepFields.DEFAULT_PERCDAMP;
  static final List<String> FIELD_NAMES = List.of("method", "nbits", "group_size", "symmetric",
      ColumnSweepFields.LAZY_BATCH_SIZE, "percdamp", "act_order", GridFields.SCALE_DTYPE);

  public GptqConfig {
    GridFields.check(nbits, groupSize);
    scaleDtype = scaleDtype == null ? ScaleDtype.FLOAT32 : scaleDtype;
    ColumnSweepFields.check(lazyBatchSize, percdamp);
  }

  /** Float32 scales. */
  public GptqConfig(int nbits, int groupSize, boolean symmetric, int lazyBatchSize, double percdamp,
      boolean actOrder) {
    this(nbits, groupSize, symmetric, lazyBatchSize, percdamp, actOrder, ScaleDtype.FLOAT32);
  }

  public GptqConfig withScaleDtype(ScaleDtype value) {
    return new GptqConfig(nbits, groupSize, symmetric, lazyBatchSize, percdamp, actOrder, value);
  }

  /** {@code nbits} and {@code groupSize} with the defaults: symmetric, lazy batch 128, percdamp 0.01, no act_order. */
  public static GptqConfig of(int nbits, int groupSize) {
    return new GptqConfig(nbits, groupSize, true, DEFAULT_LAZY_BATCH_SIZE, DEFAULT_PERCDAMP, false);
  }

  public GptqConfig withPercdamp(double value) {
    return new GptqConfig(nbits, groupSize, symmetric, lazyBatchSize, value, actOrder, scaleDtype);
  }

  public GptqConfig withLazyBatchSize(int value) {
    return new GptqConfig(nbits, groupSize, symmetric, value, percdamp, actOrder, scaleDtype);
  }

  /** The inverse of {@link #fields()}; absent fields take the defaults, {@code nbits} is required. */
  public static GptqConfig fromFields(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(METHOD, fields, FIELD_NAMES, ColumnSweepFields.RENAMED);
    return new GptqConfig(GridFields.nbits(reader, METHOD), GridFields.groupSize(reader), GridFields.symmetric(reader),
        ColumnSweepFields.lazyBatchSize(reader), ColumnSweepFields.percdamp(reader),
        FieldReader.orElse(reader.bool("act_order"), false), GridFields.scaleDtype(reader));
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
    ColumnSweepFields.put(fields, lazyBatchSize, percdamp);
    fields.put("act_order", actOrder);
    GridFields.putScaleDtype(fields, scaleDtype);
    return Collections.unmodifiableMap(fields);
  }
}
