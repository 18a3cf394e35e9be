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
    return Methods.ALL.name(config);
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
