package dev.bitsweep.compress;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Linear quantization {@code w = (q - zero_point) * scale}. {@code block_size} (columns per scale along a row)
 * applies only to granularity {@code per_block} (default 32) and is null otherwise. {@code scale_dtype} is float32
 * (the default, as coremltools on float32 weights) or float16 (scales rounded to float16 before the codes are
 * computed, stored in 2 bytes).
 * See {@link LinearQuantizer} for the exact scale and zero-point conventions.
 */
public record LinearQuantizeConfig(Mode mode, QuantDtype dtype, Granularity granularity, Integer blockSize,
    ScaleDtype scaleDtype) implements CompressionConfig {

  public enum Mode { LINEAR, LINEAR_SYMMETRIC }

  public enum Granularity { PER_TENSOR, PER_CHANNEL, PER_BLOCK }

  public static final String METHOD = "linear_quantize";
  public static final int DEFAULT_BLOCK_SIZE = 32;
  static final List<String> FIELD_NAMES = List.of("method", "mode", "dtype", "granularity", "block_size",
      "scale_dtype");

  public LinearQuantizeConfig {
    scaleDtype = scaleDtype == null ? ScaleDtype.FLOAT32 : scaleDtype;
    if (mode == null) {
      throw new ConfigException("mode", "is required; expected linear or linear_symmetric");
    }
    if (dtype == null) {
      throw new ConfigException("dtype", "is required; expected one of [int8, uint8, int4, uint4]");
    }
    if (granularity == null) {
      throw new ConfigException("granularity", "is required; expected one of [per_tensor, per_channel, per_block]");
    }
    if (granularity != Granularity.PER_BLOCK && blockSize != null) {
      throw new ConfigException("block_size", "applies only to granularity per_block, not " + Choices.id(granularity));
    }
    if (granularity == Granularity.PER_BLOCK) {
      blockSize = blockSize == null ? DEFAULT_BLOCK_SIZE : blockSize;
      if (blockSize < 1) {
        throw new ConfigException("block_size", "must be at least 1, got " + blockSize);
      }
    }
  }

  /** Float32 scales. */
  public LinearQuantizeConfig(Mode mode, QuantDtype dtype, Granularity granularity, Integer blockSize) {
    this(mode, dtype, granularity, blockSize, ScaleDtype.FLOAT32);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String method() {
    return METHOD;
  }

  @Override
  public void validateFor(int rows, int cols) {
    if (granularity == Granularity.PER_BLOCK && blockSize > cols) {
      throw new ConfigException("block_size", blockSize + " is larger than the " + cols
          + " weights per output channel of this layer; use at most " + cols + " or per_channel");
    }
  }

  @Override
  public Map<String, Object> fields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("method", METHOD);
    fields.put("mode", Choices.id(mode));
    fields.put("dtype", Choices.id(dtype));
    fields.put("granularity", Choices.id(granularity));
    fields.put("block_size", blockSize);
    fields.put("scale_dtype", Choices.id(scaleDtype));
    return fields;
  }

  public static LinearQuantizeConfig fromFields(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(METHOD, fields, FIELD_NAMES);
    Builder builder = builder();
    if (reader.choice("mode", Mode.values()) != null) {
      builder.mode(reader.choice("mode", Mode.values()));
    }
    if (reader.choice("dtype", QuantDtype.values()) != null) {
      builder.dtype(reader.choice("dtype", QuantDtype.values()));
    }
    if (reader.choice("granularity", Granularity.values()) != null) {
      builder.granularity(reader.choice("granularity", Granularity.values()));
    }
    builder.blockSize(reader.integer("block_size"));
    builder.scaleDtype(reader.choice("scale_dtype", ScaleDtype.values()));
    return builder.build();
  }

  /** Defaults: linear_symmetric, int8, per_channel (as coremltools). */
  public static final class Builder {
    private Mode mode = Mode.LINEAR_SYMMETRIC;
    private QuantDtype dtype = QuantDtype.INT8;
    private Granularity granularity = Granularity.PER_CHANNEL;
    private Integer blockSize;
    private ScaleDtype scaleDtype = ScaleDtype.FLOAT32;

    /** Null keeps float32. */
    public Builder scaleDtype(ScaleDtype scaleDtype) {
      this.scaleDtype = scaleDtype == null ? ScaleDtype.FLOAT32 : scaleDtype;
      return this;
    }

    public Builder mode(Mode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    public Builder dtype(QuantDtype dtype) {
      this.dtype = Objects.requireNonNull(dtype, "dtype");
      return this;
    }

    public Builder granularity(Granularity granularity) {
      this.granularity = Objects.requireNonNull(granularity, "granularity");
      return this;
    }

    /** Sets per_block with this block size. */
    public Builder perBlock(int blockSize) {
      this.granularity = Granularity.PER_BLOCK;
      this.blockSize = blockSize;
      return this;
    }

    public Builder blockSize(Integer blockSize) {
      this.blockSize = blockSize;
      return this;
    }

    public LinearQuantizeConfig build() {
      return new LinearQuantizeConfig(mode, dtype, granularity, blockSize, scaleDtype);
    }
  }
}
