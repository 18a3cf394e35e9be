package dev.bitsweep.plan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a plan as coremltools {@code OptimizationConfig} YAML files, one per technique, for users who apply it with
 * coremltools ({@code cto.coreml.OptimizationConfig.from_yaml(path)}, then {@code palettize_weights},
 * {@code linear_quantize_weights} or {@code prune_weights} on the mlpackage). Each file has the four keys
 * {@code OptimizationConfig} reads: {@code config_type} (OpPalettizerConfig, OpLinearQuantizerConfig,
 * OpMagnitudePrunerConfig, OpThresholdPrunerConfig), {@code global_config: null} (only the named weights change),
 * {@code op_type_configs: {}} and {@code op_name_configs} keyed by weight name, each with the fields coremltools'
 * op config of that type takes. Layers under methods coremltools' post-training API has no config for (GPTQ,
 * SparseGPT, Hessian-weighted k-means, a custom table, joint pruning) are listed in {@link Result#notExpressible}.
 */
public final class CoremlConfigWriter {
  /** The fields each config type of coremltools takes, in the order written. */
  public static final Map<String, List<String>> FIELDS = Map.of(
      "OpPalettizerConfig", List.of("mode", "nbits", "granularity", "group_size", "channel_axis", "cluster_dim",
          "enable_per_channel_scale", "weight_threshold"),
      "OpLinearQuantizerConfig", List.of("mode", "dtype", "granularity", "block_size", "weight_threshold"),
      "OpMagnitudePrunerConfig", List.of("target_sparsity", "block_size", "n_m_ratio", "weight_threshold"),
      "OpThresholdPrunerConfig", List.of("threshold", "minimum_sparsity_percentile", "weight_threshold"));

  /** The files by name ({@code coremltools-<technique>.yaml}) and the layers no file can express, with why. */
  public record Result(Map<String, String> files, Map<String, String> notExpressible) {}

  private CoremlConfigWriter() {}

  /** @param layers compressed layers only, mapped to their config's fields (with {@code method}) */
  public static Result write(Map<String, Map<String, Object>> layers, long weightThreshold) {
    Map<String, Map<String, Object>> byType = new TreeMap<>();
    Map<String, String> notExpressible = new LinkedHashMap<>();
    layers.forEach((layer, fields) -> {
      String why = unsupported(fields);
      if (why != null) {
        notExpressible.put(layer, why);
        return;
      }
      String type = configType(fields);
      Map<String, Object> op = new LinkedHashMap<>();
      for (String key : FIELDS.get(type)) {
        Object value = key.equals("weight_threshold") ? Long.valueOf(weightThreshold) : fields.get(key);
        if (key.equals("group_size") && !"per_grouped_channel".equals(fields.get("granularity"))
            || key.equals("block_size") && type.equals("OpLinearQuantizerConfig") && !"per_block".equals(fields.get("granularity"))
            || key.equals("channel_axis") && !"per_grouped_channel".equals(fields.get("granularity"))) {
          continue;
        }
        if (value != null && !(key.equals("block_size") && value instanceof Number n && n.intValue() == 0)) {
          op.put(key, value);
        }
      }
      byType.computeIfAbsent(type, t -> new LinkedHashMap<>()).put(layer, op);
    });
    Map<String, String> files = new LinkedHashMap<>();
    byType.forEach((type, ops) -> {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("config_type", type);
      doc.put("global_config", null);
      doc.put("op_type_configs", Map.of());
      doc.put("op_name_configs", ops);
      files.put("coremltools-" + technique(type) + ".yaml", "# coremltools OptimizationConfig.from_yaml; written by bitsweep search\n" + Yaml.write(doc));
    });
    return new Result(files, notExpressible);
  }

  private static String unsupported(Map<String, Object> fields) {
    Object method = fields.get("method");
    if ("palettize".equals(method)) {
      if ("custom".equals(fields.get("mode"))) {
        return "a custom lookup table has no YAML form in coremltools (it takes a lut_function)";
      }
      if ("hessian".equals(fields.get("sensitivity"))) {
        return "Hessian-weighted k-means is not in coremltools' post-training OpPalettizerConfig";
      }
      Object lut = fields.get("lut_dtype");
      if (lut != null && !"fp16".equals(lut) && !"fp32".equals(lut)) {
        return "a quantized lookup table (lut_dtype " + lut + ") needs a second linear_quantize_weights pass with"
            + " joint_compression in coremltools";
      }
      return null;
    }
    if ("linear_quantize".equals(method)) {
      return null;
    }
    if ("prune".equals(method)) {
      return fields.get("joint") == null ? null
          : "joint pruning + quantization needs two coremltools passes (prune_weights, then joint_compression)";
    }
    return method + " is not in coremltools' post-training OptimizationConfig (it is calibration-based)";
  }

  private static String configType(Map<String, Object> fields) {
    return switch (String.valueOf(fields.get("method"))) {
      case "palettize" -> "OpPalettizerConfig";
      case "linear_quantize" -> "OpLinearQuantizerConfig";
      default -> "threshold".equals(fields.get("mode")) ? "OpThresholdPrunerConfig" : "OpMagnitudePrunerConfig";
    };
  }

  private static String technique(String type) {
    return switch (type) {
      case "OpPalettizerConfig" -> "palettize";
      case "OpLinearQuantizerConfig" -> "linear_quantize";
      case "OpThresholdPrunerConfig" -> "prune-threshold";
      default -> "prune-magnitude";
    };
  }

  /** Helper for callers that gather names: the weights the files name, in order. */
  public static List<String> named(Map<String, Map<String, Object>> layers, Result result) {
    List<String> names = new ArrayList<>(layers.keySet());
    names.removeAll(result.notExpressible().keySet());
    return names;
  }
}
