package dev.bitsweep.compress;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Pruning (zeroing weights), optionally followed by a joint palettization or quantization of the surviving
 * weights (the sparsity mask stays exact).
 *
 * <ul>
 *   <li>mode {@code magnitude}: either {@code target_sparsity} (default 0.5; with {@code block_size}, whole blocks
 *       of that many consecutive weights along a row are zeroed) or {@code n_m_ratio} [n, m] (the n smallest of
 *       every m consecutive weights along a row are zeroed, as in coremltools).</li>
 *   <li>mode {@code threshold}: zero every weight with magnitude below {@code threshold} (default 1e-12); when the
 *       resulting sparsity is below {@code minimum_sparsity_percentile} (default 0.5) the layer is left dense.</li>
 * </ul>
 * Fields that do not apply to the mode are null.
 */
public record PruneConfig(
    Mode mode,
    Double targetSparsity,
    Integer blockSize,
    List<Integer> nmRatio,
    Double threshold,
    Double minimumSparsityPercentile,
    CompressionConfig joint)
    implements CompressionConfig {

  public enum Mode { MAGNITUDE, THRESHOLD }

  public static final String METHOD = "prune";
  public static final double DEFAULT_TARGET_SPARSITY = 0.5;
  public static final double DEFAULT_THRESHOLD = 1e-12;
  public static final double DEFAULT_MINIMUM_SPARSITY_PERCENTILE = 0.5;
  static final List<String> FIELD_NAMES = List.of("method", "mode", "target_sparsity", "block_size", "n_m_ratio",
      "threshold", "minimum_sparsity_percentile", "joint");

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
      if (blockSize != null && nmRatio != null) {
        throw new ConfigException("n_m_ratio", "cannot be combined with block_size; remove one of them");
      }
      if (nmRatio == null) {
        targetSparsity = targetSparsity == null ? DEFAULT_TARGET_SPARSITY : targetSparsity;
        if (!(targetSparsity >= 0 && targetSparsity < 1)) {
          throw new ConfigException("target_sparsity", "must be in [0, 1), got " + targetSparsity);
        }
      } else {
        if (nmRatio.size() != 2 || nmRatio.stream().anyMatch(java.util.Objects::isNull)) {
          throw new ConfigException("n_m_ratio", "must be two integers [n, m], got " + nmRatio);
        }
        int n = nmRatio.get(0);
        int m = nmRatio.get(1);
        if (m < 2 || n < 1 || n >= m) {
          throw new ConfigException("n_m_ratio", "needs 1 <= n < m (n of every m weights are zeroed), got [" + n + ", "
              + m + "]");
        }
        nmRatio = List.copyOf(nmRatio);
      }
      if (blockSize != null && blockSize < 1) {
        throw new ConfigException("block_size", "must be at least 1, got " + blockSize);
      }
    } else {
      requireAbsent("target_sparsity", targetSparsity, mode);
      requireAbsent("block_size", blockSize, mode);
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
    if (blockSize != null && blockSize > cols) {
      throw new ConfigException("block_size", blockSize + " is larger than the " + cols
          + " weights per output channel of this layer");
    }
    if (nmRatio != null && cols % nmRatio.get(1) != 0) {
      throw new ConfigException("n_m_ratio", "m = " + nmRatio.get(1) + " does not divide the " + cols
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
    fields.put("block_size", blockSize);
    fields.put("n_m_ratio", nmRatio);
    fields.put("threshold", threshold);
    fields.put("minimum_sparsity_percentile", minimumSparsityPercentile);
    fields.put("joint", joint == null ? null : joint.fields());
    return fields;
  }

  static PruneConfig fromFields(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(METHOD, fields, FIELD_NAMES);
    Builder builder = builder();
    if (reader.choice("mode", Mode.values()) != null) {
      builder.mode(reader.choice("mode", Mode.values()));
    }
    builder.targetSparsity(reader.number("target_sparsity"));
    builder.blockSize(reader.integer("block_size"));
    builder.nmRatio(reader.integers("n_m_ratio"));
    builder.threshold(reader.number("threshold"));
    builder.minimumSparsityPercentile(reader.number("minimum_sparsity_percentile"));
    Map<String, Object> joint = reader.map("joint");
    if (joint != null) {
      try {
        CompressionConfig nested = CompressionConfigs.fromFields(joint);
        builder.joint(nested);
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
    private Integer blockSize;
    private List<Integer> nmRatio;
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

    public Builder blockSize(Integer blockSize) {
      this.blockSize = blockSize;
      return this;
    }

    public Builder nmRatio(List<Integer> nmRatio) {
      this.nmRatio = nmRatio;
      return this;
    }

    public Builder nmRatio(int n, int m) {
      return nmRatio(List.of(n, m));
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
      return new PruneConfig(mode, targetSparsity, blockSize, nmRatio, threshold, minimumSparsityPercentile, joint);
    }
  }
}
