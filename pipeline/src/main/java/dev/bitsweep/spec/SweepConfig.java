package dev.bitsweep.spec;

import dev.bitsweep.activations.ActivationQuantConfig;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.methods.Fallback;
import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One point of a sweep grid: which compression config applies to which layer, with coremltools'
 * OptimizationConfig semantics: a layer-name rule beats an op-type rule, which beats the global config; among the
 * layer-name rules a later match beats an earlier one; a rule whose config is null leaves the matching layers
 * uncompressed (a null value in {@code opTypes} too). Which tensors are layers at all (more than
 * {@code weight_threshold} elements) is decided when the model's layers are found
 * ({@link dev.bitsweep.layer.LayerFinder}). {@code activations}, when not null, quantizes the activations of the
 * packaged model too (QDQ pairs calibrated on the spec's calibration data), with any weight config or alone.
 * {@code fallback} says what happens on a layer the applied config cannot fit ({@link Fallback}).
 */
public record SweepConfig(
    String configId,
    CompressionConfig global,
    Map<String, CompressionConfig> opTypes,
    List<LayerRule> layerRules,
    ActivationQuantConfig activations,
    Fallback fallback)
    implements Serializable {

  /** A per-layer-name rule: an exact name, or a regular expression matching the whole name (compiled once). */
  public static final class LayerRule implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String name;
    private final Pattern pattern;
    private final CompressionConfig config;

    /**
     * @param name the exact layer name, or the regular expression when {@code regex} is true
     * @param config null leaves the matching layers uncompressed
     * @throws java.util.regex.PatternSyntaxException when a regular expression does not compile
     */
    public LayerRule(String name, boolean regex, CompressionConfig config) {
      this.name = Objects.requireNonNull(name, "name");
      this.pattern = regex ? Pattern.compile(name) : null;
      this.config = config;
    }

    public String name() {
      return name;
    }

    public boolean regex() {
      return pattern != null;
    }

    public CompressionConfig config() {
      return config;
    }

    public boolean matches(String layerName) {
      return pattern == null ? name.equals(layerName) : pattern.matcher(layerName).matches();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof LayerRule rule && name.equals(rule.name) && regex() == rule.regex()
          && Objects.equals(config, rule.config);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, regex(), config);
    }

    @Override
    public String toString() {
      return (regex() ? "re:" : "") + name + "=" + config;
    }
  }

  public SweepConfig {
    Objects.requireNonNull(configId, "configId");
    opTypes = Collections.unmodifiableMap(new LinkedHashMap<>(opTypes));
    layerRules = List.copyOf(layerRules);
    Objects.requireNonNull(fallback, "fallback");
  }

  /** A weight-only config that fits every layer it applies to or fails the sweep ({@code fallback: error}). */
  public SweepConfig(String configId, CompressionConfig global, Map<String, CompressionConfig> opTypes,
      List<LayerRule> layerRules) {
    this(configId, global, opTypes, layerRules, null, Fallback.ERROR);
  }

  /** A config with {@code fallback: error}. */
  public SweepConfig(String configId, CompressionConfig global, Map<String, CompressionConfig> opTypes,
      List<LayerRule> layerRules, ActivationQuantConfig activations) {
    this(configId, global, opTypes, layerRules, activations, Fallback.ERROR);
  }

  /** True when the config quantizes activations too (its package gets QDQ pairs and is evaluated fused). */
  public boolean quantizesActivations() {
    return activations != null;
  }

  /** True when the config compresses no weights: activation quantization alone. */
  public boolean activationsOnly() {
    return activations != null && global == null && opTypes.isEmpty() && layerRules.isEmpty();
  }

  public static SweepConfig of(String configId, CompressionConfig global) {
    return new SweepConfig(configId, global, Map.of(), List.of());
  }

  /** The config for a layer, or empty when this sweep config leaves it uncompressed. */
  public Optional<CompressionConfig> configFor(Layer layer) {
    for (int i = layerRules.size() - 1; i >= 0; i--) {
      LayerRule rule = layerRules.get(i);
      if (rule.matches(layer.name())) {
        return Optional.ofNullable(rule.config());
      }
    }
    if (opTypes.containsKey(layer.opType())) {
      return Optional.ofNullable(opTypes.get(layer.opType()));
    }
    return Optional.ofNullable(global);
  }
}
