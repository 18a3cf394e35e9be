package dev.bitsweep.plan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Writes the bitsweep spec that reproduces a plan exactly: the sweep's own header (model, task, data, ...) and one
 * config with a {@code layers:} rule per layer, naming each layer's candidate config with all of its fields, or
 * {@code null} for a layer the plan leaves original. Nothing is left to a global config or an op-type rule, so a
 * sweep of this spec compresses every layer exactly as the plan says.
 */
public final class PlanSpecWriter {
  private PlanSpecWriter() {}

  /**
   * @param header the spec's top-level keys in order (name, model, task, eval_data, ...), without configs
   * @param layers each layer of the plan in model order, mapped to its config's fields ({@code method} first), or
   *     to null to leave it original
   */
  public static String write(Map<String, Object> header, String configId, Map<String, Map<String, Object>> layers) {
    Map<String, Map<String, Map<String, Object>>> one = new LinkedHashMap<>();
    one.put(configId, layers);
    return writeConfigs(header, one);
  }

  /** Several configs, each given only by its layer rules, in one spec (e.g. the one-layer sensitivity configs). */
  public static String writeConfigs(Map<String, Object> header, Map<String, Map<String, Map<String, Object>>> configs) {
    if (header.containsKey("configs") || header.containsKey("grid") || header.containsKey("search")) {
      throw new IllegalArgumentException("the header of a plan's spec holds no configs, grid or search");
    }
    if (configs.isEmpty()) {
      throw new IllegalArgumentException("a spec needs at least one config");
    }
    List<Object> list = new ArrayList<>();
    configs.forEach((configId, layers) -> {
      if (!configId.matches("[A-Za-z0-9._-]+")) {
        throw new IllegalArgumentException("config id '" + configId + "' may only use letters, digits, '.', '_', '-'");
      }
      if (layers.isEmpty()) {
        throw new IllegalArgumentException("config " + configId + " names no layer");
      }
      Map<String, Object> rules = new LinkedHashMap<>();
      layers.forEach((layer, fields) -> rules.put(ruleKey(layer), fields == null ? null : withoutNulls(fields)));
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("id", configId);
      config.put("layers", rules);
      list.add(config);
    });
    Map<String, Object> spec = new LinkedHashMap<>(header);
    spec.put("configs", list);
    return "# Written by bitsweep search; `bitsweep sweep` of this file rebuilds these configs exactly.\n"
        + Yaml.write(spec);
  }

  /** An exact name; a name that itself starts with "re:" would read as a pattern, so it is written as a quoted one. */
  static String ruleKey(String layer) {
    return layer.startsWith("re:") ? "re:" + Pattern.quote(layer) : layer;
  }

  static Map<String, Object> withoutNulls(Map<String, Object> fields) {
    Map<String, Object> kept = new LinkedHashMap<>();
    fields.forEach((k, v) -> {
      if (v instanceof Map<?, ?> nested) {
        @SuppressWarnings("unchecked")
        Map<String, Object> typed = (Map<String, Object>) nested;
        kept.put(k, withoutNulls(typed));
      } else if (v != null) {
        kept.put(k, v);
      }
    });
    return kept;
  }
}
