package dev.bitsweep.compress;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Palettization: every weight (or vector of {@code cluster_dim} weights along a row) becomes an {@code nbits} index
 * into a lookup table shared by a group of output channels.
 *
 * <p>{@code group_size} applies only to {@code per_grouped_channel} (default 32) and is null for
 * {@code per_tensor}; {@code custom_lut} applies only to mode {@code custom}. {@code channel_axis} is the axis the
 * groups run along; only 0 (the output-channel axis of the canonical layout) is supported.
 */
public record PalettizeConfig(
    Mode mode,
    int nbits,
    Granularity granularity,
    Integer groupSize,
    int channelAxis,
    boolean enablePerChannelScale,
    int clusterDim,
    LutDtype lutDtype,
    List<Double> customLut,
    Sensitivity sensitivity)
    implements CompressionConfig {

  public enum Mode { KMEANS, UNIFORM, UNIQUE, CUSTOM }

  public enum Granularity { PER_TENSOR, PER_GROUPED_CHANNEL }

  public enum LutDtype { FP16, FP32, INT8, UINT8 }

  /**
   * What weights the k-means error: {@code none} (every weight alike) or {@code hessian} (each weight by the diagonal
   * of its layer's input Hessian from the calibration data, see {@code SensitivityWeights}; needs calibration_data).
   */
  public enum Sensitivity { NONE, HESSIAN }

  public static final String METHOD = "palettize";
  public static final List<Integer> SUPPORTED_NBITS = List.of(1, 2, 3, 4, 6, 8);
  public static final int DEFAULT_GROUP_SIZE = 32;
  static final List<String> FIELD_NAMES = List.of("method", "mode", "nbits", "granularity", "group_size",
      "channel_axis", "enable_per_channel_scale", "cluster_dim", "lut_dtype", "custom_lut", "sensitivity");

  public PalettizeConfig {
    if (mode == null) {
      throw new ConfigException("mode", "is required; expected one of [kmeans, uniform, unique, custom]");
    }
    if (granularity == null) {
      throw new ConfigException("granularity", "is required; expected per_tensor or per_grouped_channel");
    }
    if (lutDtype == null) {
      throw new ConfigException("lut_dtype", "is required; expected one of [fp16, fp32, int8, uint8]");
    }
    if (sensitivity == null) {
      throw new ConfigException("sensitivity", "is required; expected none or hessian");
    }
    if (sensitivity == Sensitivity.HESSIAN && mode != Mode.KMEANS) {
      throw new ConfigException("sensitivity", "hessian weights the k-means objective and needs mode kmeans, not "
          + Choices.id(mode));
    }
    if (!SUPPORTED_NBITS.contains(nbits)) {
      throw new ConfigException("nbits", nbits + " is not supported; expected one of " + SUPPORTED_NBITS);
    }
    if (granularity == Granularity.PER_TENSOR && groupSize != null) {
      throw new ConfigException("group_size", "applies only to granularity per_grouped_channel; remove it for per_tensor");
    }
    if (granularity == Granularity.PER_GROUPED_CHANNEL) {
      groupSize = groupSize == null ? DEFAULT_GROUP_SIZE : groupSize;
      if (groupSize < 1) {
        throw new ConfigException("group_size", "must be at least 1, got " + groupSize);
      }
    }
    if (channelAxis != 0) {
      throw new ConfigException("channel_axis", "only 0 (the output-channel axis of the canonical layout) is supported, got "
          + channelAxis);
    }
    if (clusterDim < 1) {
      throw new ConfigException("cluster_dim", "must be at least 1, got " + clusterDim);
    }
    if (clusterDim > 1 && mode != Mode.KMEANS) {
      throw new ConfigException("cluster_dim", "vector palettization (cluster_dim " + clusterDim
          + ") needs mode kmeans, not " + Choices.id(mode));
    }
    if (mode == Mode.UNIQUE && enablePerChannelScale) {
      throw new ConfigException("enable_per_channel_scale", "mode unique keeps the existing values losslessly; "
          + "per-channel scaling would change them: set it to false");
    }
    if (mode == Mode.CUSTOM) {
      if (customLut == null || customLut.isEmpty()) {
        throw new ConfigException("custom_lut", "mode custom needs a non-empty table of values");
      }
      if (customLut.size() > (1 << nbits)) {
        throw new ConfigException("custom_lut", "has " + customLut.size() + " values but nbits " + nbits
            + " allows at most " + (1 << nbits));
      }
      List<Double> copy = new ArrayList<>();
      for (Double value : customLut) {
        if (value == null || !Double.isFinite(value) || Math.abs(value) > Float.MAX_VALUE) {
          throw new ConfigException("custom_lut", "values must be finite floats, got " + value);
        }
        if (lutDtype == LutDtype.FP16 && Math.abs(value) > Float16.MAX_VALUE) {
          throw new ConfigException("custom_lut", "value " + value + " is outside the fp16 range; use lut_dtype fp32");
        }
        copy.add(value);
      }
      customLut = List.copyOf(copy);
    } else if (customLut != null) {
      throw new ConfigException("custom_lut", "applies only to mode custom, not " + Choices.id(mode));
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A per-tensor k-means config with {@code nbits}, other fields at their defaults. */
  public static PalettizeConfig kmeans(int nbits) {
    return builder().nbits(nbits).build();
  }

  @Override
  public String method() {
    return METHOD;
  }

  @Override
  public boolean needsCalibration() {
    return sensitivity == Sensitivity.HESSIAN;
  }

  public int tableSize() {
    return 1 << nbits;
  }

  /** Rows per table for a layer of {@code rows} output channels. */
  public int rowsPerTable(int rows) {
    return granularity == Granularity.PER_TENSOR ? rows : groupSize;
  }

  @Override
  public void validateFor(int rows, int cols) {
    if (granularity == Granularity.PER_GROUPED_CHANNEL && rows % groupSize != 0) {
      throw new ConfigException("group_size", groupSize + " does not divide the " + rows
          + " output channels of this layer; choose a divisor of " + rows + " or per_tensor");
    }
    if (cols % clusterDim != 0) {
      throw new ConfigException("cluster_dim", clusterDim + " does not divide the " + cols
          + " weights per output channel of this layer");
    }
  }

  @Override
  public Map<String, Object> fields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("method", METHOD);
    fields.put("mode", Choices.id(mode));
    fields.put("nbits", nbits);
    fields.put("granularity", Choices.id(granularity));
    fields.put("group_size", groupSize);
    fields.put("channel_axis", channelAxis);
    fields.put("enable_per_channel_scale", enablePerChannelScale);
    fields.put("cluster_dim", clusterDim);
    fields.put("lut_dtype", Choices.id(lutDtype));
    fields.put("custom_lut", customLut);
    fields.put("sensitivity", Choices.id(sensitivity));
    return fields;
  }

  public static PalettizeConfig fromFields(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(METHOD, fields, FIELD_NAMES);
    Builder builder = builder();
    if (reader.choice("mode", Mode.values()) != null) {
      builder.mode(reader.choice("mode", Mode.values()));
    }
    if (reader.integer("nbits") != null) {
      builder.nbits(reader.integer("nbits"));
    }
    if (reader.choice("granularity", Granularity.values()) != null) {
      builder.granularity(reader.choice("granularity", Granularity.values()));
    }
    builder.groupSize(reader.integer("group_size"));
    if (reader.integer("channel_axis") != null) {
      builder.channelAxis(reader.integer("channel_axis"));
    }
    if (reader.bool("enable_per_channel_scale") != null) {
      builder.enablePerChannelScale(reader.bool("enable_per_channel_scale"));
    }
    if (reader.integer("cluster_dim") != null) {
      builder.clusterDim(reader.integer("cluster_dim"));
    }
    if (reader.choice("lut_dtype", LutDtype.values()) != null) {
      builder.lutDtype(reader.choice("lut_dtype", LutDtype.values()));
    }
    builder.customLut(reader.numbers("custom_lut"));
    if (reader.choice("sensitivity", Sensitivity.values()) != null) {
      builder.sensitivity(reader.choice("sensitivity", Sensitivity.values()));
    }
    return builder.build();
  }

  /** Defaults: kmeans, 4 bits, per_tensor, channel_axis 0, no channel scale, cluster_dim 1, fp16 table, no sensitivity. */
  public static final class Builder {
    private Mode mode = Mode.KMEANS;
    private int nbits = 4;
    private Granularity granularity = Granularity.PER_TENSOR;
    private Integer groupSize;
    private int channelAxis;
    private boolean enablePerChannelScale;
    private int clusterDim = 1;
    private LutDtype lutDtype = LutDtype.FP16;
    private List<Double> customLut;
    private Sensitivity sensitivity = Sensitivity.NONE;

    public Builder mode(Mode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    public Builder nbits(int nbits) {
      this.nbits = nbits;
      return this;
    }

    public Builder granularity(Granularity granularity) {
      this.granularity = Objects.requireNonNull(granularity, "granularity");
      return this;
    }

    /** Sets per_grouped_channel with this group size. */
    public Builder perGroupedChannel(int groupSize) {
      this.granularity = Granularity.PER_GROUPED_CHANNEL;
      this.groupSize = groupSize;
      return this;
    }

    public Builder groupSize(Integer groupSize) {
      this.groupSize = groupSize;
      return this;
    }

    public Builder channelAxis(int channelAxis) {
      this.channelAxis = channelAxis;
      return this;
    }

    public Builder enablePerChannelScale(boolean enable) {
      this.enablePerChannelScale = enable;
      return this;
    }

    public Builder clusterDim(int clusterDim) {
      this.clusterDim = clusterDim;
      return this;
    }

    public Builder lutDtype(LutDtype lutDtype) {
      this.lutDtype = Objects.requireNonNull(lutDtype, "lutDtype");
      return this;
    }

    /** The table of mode custom (set the mode too). */
    public Builder customLut(List<Double> customLut) {
      this.customLut = customLut;
      return this;
    }

    /** Hessian-weighted k-means (mode kmeans, needs calibration data). */
    public Builder sensitivity(Sensitivity sensitivity) {
      this.sensitivity = Objects.requireNonNull(sensitivity, "sensitivity");
      return this;
    }

    public PalettizeConfig build() {
      return new PalettizeConfig(mode, nbits, granularity, groupSize, channelAxis, enablePerChannelScale, clusterDim,
          lutDtype, customLut, sensitivity);
    }
  }
}
