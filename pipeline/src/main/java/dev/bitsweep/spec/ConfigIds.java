package dev.bitsweep.spec;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.methods.Methods;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Readable, deterministic config ids, e.g. {@code palettize-kmeans-4bit-per_grouped_channel-g16} or
 * {@code linear_quantize-linear_symmetric-int4-per_block-b32}. Configs with overrides get a short hash of them.
 */
public final class ConfigIds {
  private ConfigIds() {}

  public static String of(CompressionConfig global, Map<String, CompressionConfig> opTypes,
      List<SweepConfig.LayerRule> rules) {
    StringBuilder id = new StringBuilder(global == null ? "overrides" : describe(global));
    if (!opTypes.isEmpty() || !rules.isEmpty()) {
      StringBuilder overrides = new StringBuilder();
      opTypes.forEach((op, c) -> overrides.append(op).append('=').append(c == null ? null : c.fields()).append(';'));
      rules.forEach(r -> overrides.append(r.name()).append(r.regex()).append('=')
          .append(r.config() == null ? null : r.config().fields()).append(';'));
      id.append("-o").append(hash(overrides.toString()));
    }
    return id.toString();
  }

  /** The readable part of a config's id, as its method names it (see {@link Methods}). */
  static String describe(CompressionConfig config) {
<<<<<<< HEAD
    Map<String, Object> fields = config.fields();
    StringBuilder id = new StringBuilder(config.method());
    for (String key : NAMED) {
      Object value = fields.get(key);
      if (key.equals("symmetric")) {
        // gptq/sparsegpt grids: symmetric is the default; an asymmetric grid is named (only when it quantizes)
        if (Boolean.FALSE.equals(value) && fields.get("nbits") != null) {
          id.append("-asym");
        }
        continue;
      }
      if (key.equals("percdamp") && value instanceof Number n && n.doubleValue() == 0.01
          || key.equals("sensitivity") && "none".equals(value)) {
        continue;
      }
      if (value == null || Boolean.FALSE.equals(value) || (value instanceof Number n && n.doubleValue() == 0)) {
        continue;
      }
      String granularity = String.valueOf(fields.get("granularity"));
      if (key.equals("group_size") && fields.containsKey("granularity") && !granularity.equals("per_grouped_channel")) {
        continue;
      }
      if (key.equals("block_size") && !granularity.equals("per_block") && !config.method().equals("prune")) {
        continue;
      }
      if (key.equals("cluster_dim") && value instanceof Number n && n.intValue() == 1) {
        continue;
      }
      if (key.equals("lut_dtype") && "fp16".equals(value)) {
        continue;
      }
      id.append('-').append(switch (key) {
        case "nbits" -> value + "bit";
        case "group_size" -> "g" + value;
        case "block_size" -> "b" + value;
        case "target_sparsity" -> "s" + percent(((Number) value).doubleValue());
        case "cluster_dim" -> "cd" + value;
        case "enable_per_channel_scale" -> "pcs";
        case "act_order" -> "actorder";
        case "percdamp" -> "d" + value;
        case "n_m_ratio" -> value.toString().replaceAll("[^0-9]+", ":").replaceAll("^:|:$", "");
        default -> value.toString();
      });
    }
    Object nested = fields.get("joint");
    if (nested instanceof Map<?, ?> joint && joint.get("method") != null) {
      id.append("+").append(joint.get("method"));
      if (joint.get("nbits") != null) {
        id.append('-').append(joint.get("nbits")).append("bit");
      }
      if (joint.get("dtype") != null) {
        id.append('-').append(joint.get("dtype"));
      }
    }
    return id.toString().replace(':', '_');
=======
    return Methods.ALL.name(config);
>>>>>>> main
  }

  /** A percentage with as many digits as the value has (0.5 -> 50, 0.504 -> 50.4), so distinct values never share an id. */
  static String percent(double fraction) {
    return new java.math.BigDecimal(Double.toString(fraction)).movePointRight(2).stripTrailingZeros().toPlainString();
  }

  /**
   * Ids and names become directory names: letters, digits, '.', '_' and '-', starting with a letter or digit (so
   * never '.', '..' or a hidden name), at most 200 characters.
   */
  public static boolean isSafeSegment(String text) {
    return text != null && text.length() <= 200 && text.matches("[A-Za-z0-9][A-Za-z0-9._-]*");
  }

  static String hash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 3);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
