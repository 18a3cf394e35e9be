package dev.bitsweep.pipeline;

import dev.bitsweep.spec.SweepConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A config as its exact description (global, op_types, layers, each with its method and fields): in the manifest,
 * the runs table's {@code config_json} and the sweep id.
 */
public final class ConfigDescription {
  private ConfigDescription() {}

  public static Map<String, Object> of(SweepConfig config) {
    Map<String, Object> described = new LinkedHashMap<>();
    described.put("global", config.global() == null ? null : config.global().fields());
    Map<String, Object> ops = new LinkedHashMap<>();
    config.opTypes().forEach((op, c) -> ops.put(op, c == null ? null : c.fields()));
    described.put("op_types", ops);
    Map<String, Object> layers = new LinkedHashMap<>();
    config.layerRules().forEach(r -> layers.put((r.regex() ? "re:" : "") + r.name(),
        r.config() == null ? null : r.config().fields()));
    described.put("layers", layers);
    return described;
  }
}
