package dev.bitsweep.compress;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Pruning (zeroing weights), optionally followed by a joint palettization or quantization of the surviving
 * weights (the sparsity mask stays exact).
 *
 * <ul>
 *   <li>mode {@code magnitude}: either {@code target_sparsity} (default 0.5; with {@code prune_block_size}, whole
 *       blocks of that many consecutive weights along a row are zeroed) or {@code n_m_ratio} [n, m] (the n smallest of
 *       every m consecutive weights along a row are zeroed, as in coremltools).</li>
 *   <li>mode {@code threshold}: zero every weight with magnitude below {@code threshold} (default 1e-12); when the
 *       resulting sparsity is below {@code minimum_sparsity_percentile} (default 0.5) the layer is left dense.</li>
 * </ul>
 * Fields that do not apply to the mode are null.
 */
public record PruneConfig(
    Mode mode,
    Double targetSparsity,
    Integer pruneBlockSize,
    NmRatio nmRatio,
    Double threshold,
    Double minimumSparsityPercentile,
    CompressionConfig joint)
    implements CompressionConfig {

  public enum Mode { MAGNITUDE, THRESHOLD }

  public static final String METHOD = "prune";
  public static final double DEFAULT_TARGET_SPARSITY = 0.5;
  public static final double DEFAULT_THRESHOLD = 1e-12;
  public static final double DEFAULT_MINIMUM_SPARSITY_PERCENTILE = 0.5;
  static final List<String> FIELD_NAMES = List.of("method", "mode", "target_sparsity", "prune_block_size",
      "n_m_ratio", "threshold", "minimum_sparsity_percentile", "joint");
  /** Keys that named something else before: a hint instead of a bare "unknown field". */
  private static final Map<String, String> RENAMED = Map.of("block_size",
      "the pruning block is now prune_block_size (block_size names only the quantization block)");
  /** The methods a joint config may use, and their parsers. */
  private static final Map<String, Function<Map<String, Object>, CompressionConfig>> JOINT_METHODS = Map.of(
      PalettizeConfig.METHOD, PalettizeConfig::fromFields, LinearQuantizeConfig.METHOD, LinearQuantizeConfig::fromFields);

  public PruneConfig {
    if (mode == null) {
      throw new ConfigException("mode", "is required; expected magnitude or threshold");
    }
    if (mode == Mode.MAGNITUDE) {
      requireAbsent("threshold", threshold, mode);
      requireAbsent("minimum_sparsity_percentile", minimumSparsityPercentile, mode);
      if (targetSparsity != null && nmRatio != null) {
        throw new ConfigException("n_m_ratio", "sets the sparsity itself (n/m); remove target_sparsity or n_m_ratio");
      }
      if (pruneBlockSize != null && nmRatio != null) {
        throw new ConfigException("n_m_ratio", "cannot be combined with prune_block_size; remove one of them");
      }
      if (nmRatio == null) {
        targetSparsity = targetSparsity == null ? DEFAULT_TARGET_SPARSITY : targetSparsity;
        if (!(targetSparsity >= 0 && targetSparsity < 1)) {
          throw new ConfigException("target_sparsity", "must be in [0, 1), got " + targetSparsity);
        }
      }
      if (pruneBlockSize != null && pruneBlockSize < 1) {
        throw new ConfigException("prune_block_size", "must be at least 1, got " + pruneBlockSize);
      }
    } else {
      requireAbsent("target_sparsity", targetSparsity, mode);
      requireAbsent("prune_block_size", pruneBlockSize, mode);
      requireAbsent("n_m_ratio", nmRatio, mode);
      threshold = threshold == null ? DEFAULT_THRESHOLD : threshold;
      minimumSparsityPercentile = minimumSparsityPercentile == null
          ? DEFAULT_MINIMUM_SPARSITY_PERCENTILE : minimumSparsityPercentile;
      if (!(threshold >= 0) || Double.isInfinite(threshold)) {
        throw new ConfigException("threshold", "must be a finite number >= 0, got " + threshold);
      }
      if (!(minimumSparsityPercentile >= 0 && minimumSparsityPercentile <= 1)) {
        throw new ConfigException("minimum_sparsity_percentile", "must be in [0, 1], got " + minimumSparsityPercentile);
      }
    }
    if (joint != null && !(joint instanceof PalettizeConfig) && !(joint instanceof LinearQuantizeConfig)) {
      throw new ConfigException("joint", "must be a palettize or linear_quantize config, got method " + joint.method());
    }
  }

  private static void requireAbsent(String field, Object value, Mode mode) {
    if (value != null) {
      throw new ConfigException(field, "does not apply to mode " + Choices.id(mode) + "; remove it");
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Unstructured magnitude pruning to {@code targetSparsity}. */
  public static PruneConfig magnitude(double targetSparsity) {
    return builder().targetSparsity(targetSparsity).build();
  }

  @Override
  public String method() {
    return METHOD;
  }

  @Override
  public void validateFor(int rows, int cols) {
    if (pruneBlockSize != null && pruneBlockSize > cols) {
      throw new ConfigException("prune_block_size", pruneBlockSize + " is larger than the " + cols
          + " weights per output channel of this layer");
    }
    if (nmRatio != null && cols % nmRatio.m() != 0) {
      throw new ConfigException("n_m_ratio", "m = " + nmRatio.m() + " does not divide the " + cols
          + " weights per output channel of this layer");
    }
    if (joint != null) {
      try {
        joint.validateFor(rows, cols);
      } catch (ConfigException e) {
        throw new ConfigException("joint." + e.field(), e.getMessage().substring(e.field().length() + 2));
      }
    }
  }

  @Override
  public Map<String, Object> fields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("method", METHOD);
    fields.put("mode", Choices.id(mode));
    fields.put("target_sparsity", targetSparsity);
    fields.put("prune_block_size", pruneBlockSize);
    fields.put("n_m_ratio", nmRatio == null ? null : nmRatio.asList());
    fields.put("threshold", threshold);
    fields.put("minimum_sparsity_percentile", minimumSparsityPercentile);
    fields.put("joint", joint == null ? null : joint.fields());
    return fields;
  }

  public static PruneConfig fromFields(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(METHOD, fields, FIELD_NAMES, RENAMED);
    Builder builder = builder();
    if (reader.choice("mode", Mode.values()) != null) {
      builder.mode(reader.choice("mode", Mode.values()));
    }
    builder.targetSparsity(reader.number("target_sparsity"));
    builder.pruneBlockSize(reader.integer("prune_block_size"));
    builder.nmRatio(reader.integers("n_m_ratio"));
    builder.threshold(reader.number("threshold"));
    builder.minimumSparsityPercentile(reader.number("minimum_sparsity_percentile"));
    Map<String, Object> joint = reader.map("joint");
    if (joint != null) {
      Function<Map<String, Object>, CompressionConfig> parser = joint.get("method") instanceof String m
          ? JOINT_METHODS.get(m) : null;
      if (parser == null) {
        throw new ConfigException("joint", "must be a palettize or linear_quantize config, got method "
            + (joint.get("method") == null ? "none" : FieldReader.describe(joint.get("method"))));
      }
      try {
        builder.joint(parser.apply(joint));
      } catch (ConfigException e) {
        throw new ConfigException("joint." + e.field(), e.getMessage().substring(e.field().length() + 2));
      }
    }
    return builder.build();
  }

  /** Defaults: magnitude; target_sparsity 0.5 unless n_m_ratio is set. */
  public static final class Builder {
    private Mode mode = Mode.MAGNITUDE;
    private Double targetSparsity;
    private Integer pruneBlockSize;
    private NmRatio nmRatio;
    private Double threshold;
    private Double minimumSparsityPercentile;
    private CompressionConfig joint;

    public Builder mode(Mode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    public Builder targetSparsity(Double targetSparsity) {
      this.targetSparsity = targetSparsity;
      return this;
    }

    public Builder pruneBlockSize(Integer pruneBlockSize) {
      this.pruneBlockSize = pruneBlockSize;
      return this;
    }

    /** {@code [n, m]} as read from YAML (validated here); null for none. */
    public Builder nmRatio(List<Integer> nmRatio) {
      this.nmRatio = NmRatio.of(nmRatio);
      return this;
    }

    public Builder nmRatio(int n, int m) {
      this.nmRatio = new NmRatio(n, m);
      return this;
    }

    public Builder threshold(Double threshold) {
      this.threshold = threshold;
      return this;
    }

    public Builder minimumSparsityPercentile(Double percentile) {
      this.minimumSparsityPercentile = percentile;
      return this;
    }

    public Builder joint(CompressionConfig joint) {
      this.joint = joint;
      return this;
    }

    public PruneConfig build() {
      return new PruneConfig(mode, targetSparsity, pruneBlockSize, nmRatio, threshold, minimumSparsityPercentile, joint);
    }
  }
}
