package dev.bitsweep.spec;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.layer.Layer;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One point of a sweep grid: which compression config applies to which layer. As in coremltools'
 * OptimizationConfig, a layer-name rule beats an op-type rule, which beats the global config; a rule whose config is
 * null leaves the matching layers uncompressed.
 */
public record SweepConfig(
    String configId,
    CompressionConfig global,
    Map<String, Optional<CompressionConfig>> opTypes,
    List<LayerRule> layerRules)
    implements Serializable {

  /** A per-layer-name rule: an exact name, or a regular expression when {@code regex} is true. */
  public record LayerRule(String name, boolean regex, CompressionConfig config) implements Serializable {
    public boolean matches(String layerName) {
      return regex ? Pattern.compile(name).matcher(layerName).matches() : name.equals(layerName);
    }
  }

  public SweepConfig {
    Objects.requireNonNull(configId, "configId");
    opTypes = new LinkedHashMap<>(opTypes);
    layerRules = List.copyOf(layerRules);
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
    Optional<CompressionConfig> byOp = opTypes.get(layer.opType());
    if (byOp != null) {
      return byOp;
    }
    return Optional.ofNullable(global);
  }

  /** The configs this sweep config may apply, global first. */
  public List<CompressionConfig> allConfigs() {
    List<CompressionConfig> all = new ArrayList<>();
    if (global != null) {
      all.add(global);
    }
    opTypes.values().forEach(c -> c.ifPresent(all::add));
    layerRules.forEach(r -> {
      if (r.config() != null) {
        all.add(r.config());
      }
    });
    return all;
  }

  public boolean hasOverrides() {
    return !opTypes.isEmpty() || !layerRules.isEmpty();
  }

  /** Optional is not serializable: configs travel through the pipeline in this form instead. */
  private Object writeReplace() {
    Map<String, CompressionConfig> byOp = new LinkedHashMap<>();
    opTypes.forEach((op, config) -> byOp.put(op, config.orElse(null)));
    return new Serialized(configId, global, byOp, layerRules);
  }

  private record Serialized(String configId, CompressionConfig global, Map<String, CompressionConfig> opTypes,
      List<LayerRule> layerRules) implements Serializable {
    private Object readResolve() {
      Map<String, Optional<CompressionConfig>> byOp = new LinkedHashMap<>();
      opTypes.forEach((op, config) -> byOp.put(op, Optional.ofNullable(config)));
      return new SweepConfig(configId, global, byOp, layerRules);
    }
  }
}
