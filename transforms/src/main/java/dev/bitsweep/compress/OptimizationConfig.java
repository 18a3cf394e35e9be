package dev.bitsweep.compress;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which config compresses which layer, as coremltools' OptimizationConfig: a global config, per-op-type configs and
 * per-layer-name configs (exact names or regular expressions matching the whole name). The most specific level
 * wins (layer name over op type over global); within the layer-name rules, a later matching rule overrides an
 * earlier one. A {@code null} config at any level means "do not compress". A layer is compressed only if it has
 * more than {@code weight_threshold} elements (coremltools' convention; default 2048).
 */
public final class OptimizationConfig implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final long DEFAULT_WEIGHT_THRESHOLD = 2048;

  private final CompressionConfig global;
  private final Map<String, CompressionConfig> opTypeConfigs;
  private final List<LayerRule> layerRules;
  private final long weightThreshold;

  /** One per-layer-name rule: an exact name or a regular expression (full match), and its config (null = skip). */
  public record LayerRule(String name, Pattern pattern, CompressionConfig config) implements Serializable {
    public LayerRule {
      if ((name == null) == (pattern == null)) {
        throw new IllegalArgumentException("a layer rule has either an exact name or a pattern");
      }
    }

    boolean matches(String layerName) {
      return name != null ? name.equals(layerName) : pattern.matcher(layerName).matches();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof LayerRule rule && Objects.equals(name, rule.name)
          && Objects.equals(patternText(), rule.patternText()) && Objects.equals(config, rule.config);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, patternText(), config);
    }

    private String patternText() {
      return pattern == null ? null : pattern.pattern();
    }
  }

  private OptimizationConfig(Builder builder) {
    this.global = builder.global;
    this.opTypeConfigs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(builder.opTypeConfigs));
    this.layerRules = List.copyOf(builder.layerRules);
    this.weightThreshold = builder.weightThreshold;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** One config for every layer above the default weight threshold. */
  public static OptimizationConfig global(CompressionConfig config) {
    return builder().global(config).build();
  }

  /** The config for this layer, or empty when the layer is skipped (null config or too few elements). */
  public Optional<CompressionConfig> configFor(String layerName, String opType, long elementCount) {
    if (elementCount <= weightThreshold) {
      return Optional.empty();
    }
    CompressionConfig chosen = global;
    if (opType != null && opTypeConfigs.containsKey(opType)) {
      chosen = opTypeConfigs.get(opType);
    }
    for (LayerRule rule : layerRules) {
      if (rule.matches(layerName)) {
        chosen = rule.config();
      }
    }
    return Optional.ofNullable(chosen);
  }

  public CompressionConfig globalConfig() {
    return global;
  }

  public Map<String, CompressionConfig> opTypeConfigs() {
    return opTypeConfigs;
  }

  public List<LayerRule> layerRules() {
    return layerRules;
  }

  public long weightThreshold() {
    return weightThreshold;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof OptimizationConfig o && Objects.equals(global, o.global)
        && opTypeConfigs.equals(o.opTypeConfigs) && layerRules.equals(o.layerRules)
        && weightThreshold == o.weightThreshold;
  }

  @Override
  public int hashCode() {
    return Objects.hash(global, opTypeConfigs, layerRules, weightThreshold);
  }

  @Override
  public String toString() {
    return "OptimizationConfig[global=" + global + ", opTypeConfigs=" + opTypeConfigs + ", layerRules=" + layerRules
        + ", weightThreshold=" + weightThreshold + "]";
  }

  public static final class Builder {
    private CompressionConfig global;
    private final Map<String, CompressionConfig> opTypeConfigs = new LinkedHashMap<>();
    private final List<LayerRule> layerRules = new ArrayList<>();
    private long weightThreshold = DEFAULT_WEIGHT_THRESHOLD;

    /** The config of every layer not matched more specifically; null (the default) skips them. */
    public Builder global(CompressionConfig config) {
      this.global = config;
      return this;
    }

    /** The config of every layer whose op is {@code opType} (e.g. "Conv", "MatMul"); null skips them. */
    public Builder opType(String opType, CompressionConfig config) {
      if (opType == null || opType.isEmpty()) {
        throw new ConfigException("op_type_configs", "an op type must be a non-empty name");
      }
      opTypeConfigs.put(opType, config);
      return this;
    }

    /** The config of the layer named exactly {@code name}; null skips it. Later rules override earlier ones. */
    public Builder layerName(String name, CompressionConfig config) {
      if (name == null || name.isEmpty()) {
        throw new ConfigException("layer_configs", "a layer name must be non-empty");
      }
      layerRules.add(new LayerRule(name, null, config));
      return this;
    }

    /** The config of every layer whose whole name matches {@code regex}; null skips them. */
    public Builder layerPattern(String regex, CompressionConfig config) {
      try {
        layerRules.add(new LayerRule(null, Pattern.compile(regex), config));
      } catch (PatternSyntaxException e) {
        throw new ConfigException("layer_patterns", "'" + regex + "' is not a valid regular expression: "
            + e.getDescription());
      }
      return this;
    }

    public Builder weightThreshold(long weightThreshold) {
      if (weightThreshold < 0) {
        throw new ConfigException("weight_threshold", "must be >= 0, got " + weightThreshold);
      }
      this.weightThreshold = weightThreshold;
      return this;
    }

    public OptimizationConfig build() {
      return new OptimizationConfig(this);
    }
  }
}
