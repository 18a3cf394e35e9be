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

  static final List<String> FIELD_NAMES = List.of("global", "op_type_configs", "layer_configs", "weight_threshold");

  /**
   * The YAML-like form: {@code global} (a config's fields, or null to skip), {@code op_type_configs} (op type to
   * fields or null), {@code layer_configs} (an ordered list of {@code {name: ..., config: ...}} or
   * {@code {pattern: ..., config: ...}}; later entries override earlier ones) and {@code weight_threshold}.
   */
  public Map<String, Object> fields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("global", global == null ? null : global.fields());
    Map<String, Object> opTypes = new LinkedHashMap<>();
    opTypeConfigs.forEach((opType, config) -> opTypes.put(opType, config == null ? null : config.fields()));
    fields.put("op_type_configs", opTypes);
    List<Object> layers = new ArrayList<>();
    for (LayerRule rule : layerRules) {
      Map<String, Object> entry = new LinkedHashMap<>();
      if (rule.name() != null) {
        entry.put("name", rule.name());
      } else {
        entry.put("pattern", rule.pattern().pattern());
      }
      entry.put("config", rule.config() == null ? null : rule.config().fields());
      layers.add(entry);
    }
    fields.put("layer_configs", layers);
    fields.put("weight_threshold", weightThreshold);
    return fields;
  }

  /** The inverse of {@link #fields()}; absent keys take their defaults. */
  public static OptimizationConfig fromFields(Map<String, Object> fields) {
    for (String key : fields.keySet()) {
      if (!FIELD_NAMES.contains(key)) {
        throw new ConfigException(key, "unknown field of an optimization config; allowed fields are " + FIELD_NAMES
            + Choices.suggestion(key, FIELD_NAMES));
      }
    }
    Builder builder = builder();
    builder.global(nested("global", fields.get("global")));
    Object opTypes = fields.get("op_type_configs");
    if (opTypes != null) {
      if (!(opTypes instanceof Map<?, ?> map)) {
        throw new ConfigException("op_type_configs", "expected a map from op type to config but got "
            + FieldReader.describe(opTypes));
      }
      map.forEach((opType, config) -> builder.opType(String.valueOf(opType),
          nested("op_type_configs." + opType, config)));
    }
    Object layers = fields.get("layer_configs");
    if (layers != null) {
      if (!(layers instanceof List<?> list)) {
        throw new ConfigException("layer_configs", "expected a list of {name or pattern, config} but got "
            + FieldReader.describe(layers));
      }
      for (int i = 0; i < list.size(); i++) {
        String field = "layer_configs[" + i + "]";
        if (!(list.get(i) instanceof Map<?, ?> entry)) {
          throw new ConfigException(field, "expected a map with name or pattern and config");
        }
        for (Object key : entry.keySet()) {
          if (!List.of("name", "pattern", "config").contains(key)) {
            throw new ConfigException(field + "." + key, "unknown key; allowed keys are [name, pattern, config]"
                + Choices.suggestion(String.valueOf(key), List.of("name", "pattern", "config")));
          }
        }
        Object name = entry.get("name");
        Object pattern = entry.get("pattern");
        if ((name == null) == (pattern == null) || !(name == null ? pattern : name).getClass().equals(String.class)) {
          throw new ConfigException(field, "needs exactly one of name (an exact layer name) or pattern (a regular "
              + "expression), as a string");
        }
        if (!entry.containsKey("config")) {
          throw new ConfigException(field + ".config", "is required; use null to skip the matching layers");
        }
        CompressionConfig config = nested(field + ".config", entry.get("config"));
        if (name != null) {
          builder.layerName((String) name, config);
        } else {
          builder.layerPattern((String) pattern, config);
        }
      }
    }
    Object threshold = fields.get("weight_threshold");
    if (threshold != null) {
      if (!(threshold instanceof Integer || threshold instanceof Long)) {
        throw new ConfigException("weight_threshold", "expected an integer but got " + FieldReader.describe(threshold));
      }
      builder.weightThreshold(((Number) threshold).longValue());
    }
    return builder.build();
  }

  @SuppressWarnings("unchecked")
  private static CompressionConfig nested(String field, Object value) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw new ConfigException(field, "expected a config (a map of fields) or null but got "
          + FieldReader.describe(value));
    }
    try {
      return CompressionConfigs.fromFields((Map<String, Object>) map);
    } catch (ConfigException e) {
      throw new ConfigException(field + "." + e.field(), e.getMessage().substring(e.field().length() + 2));
    }
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
