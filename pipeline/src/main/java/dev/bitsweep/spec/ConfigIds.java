package dev.bitsweep.spec;

import dev.bitsweep.activations.ActivationQuantConfig;
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

  /**
   * The id of a config that quantizes activations: the weight config's id, then {@code +activations-<dtype>-
   * <calibration>} (with {@code -p<percentile>} and {@code -asym} where they differ from the defaults); for
   * activations alone just {@code activations-int8-minmax} and so on.
   */
  public static String of(CompressionConfig global, Map<String, CompressionConfig> opTypes,
      List<SweepConfig.LayerRule> rules, ActivationQuantConfig activations) {
    boolean weights = global != null || !opTypes.isEmpty() || !rules.isEmpty();
    String weightId = weights ? of(global, opTypes, rules) : null;
    if (activations == null) {
      return weightId;
    }
    StringBuilder id = new StringBuilder(weights ? weightId + "+" : "").append(ACTIVATIONS_METHOD);
    Map<String, Object> fields = activations.fields();
    id.append('-').append(fields.get("dtype")).append('-').append(fields.get("calibration"));
    if (activations.calibration() == ActivationQuantConfig.Calibration.PERCENTILE
        && activations.percentile() != ActivationQuantConfig.DEFAULT_PERCENTILE) {
      id.append("-p").append(activations.percentile());
    }
    if (!activations.symmetric()) {
      id.append("-asym");
    }
    return id.toString();
  }

  /** The {@code method} value of a config that quantizes activations only. */
  public static final String ACTIVATIONS_METHOD = "activations";

  /** The readable part of a config's id, as its method names it (see {@link Methods}). */
  static String describe(CompressionConfig config) {
    return Methods.ALL.name(config);
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
