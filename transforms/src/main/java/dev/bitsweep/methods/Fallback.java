package dev.bitsweep.methods;

import dev.bitsweep.compress.CompressionConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What a sweep config does with a layer its compression config cannot apply to as written (a group or block size
 * that does not fit the layer's shape): {@code error} stops the sweep before any job runs, listing every such layer;
 * {@code skip} leaves the layer uncompressed; {@code per_tensor} and {@code per_channel} switch the config's
 * granularity; {@code nearest} takes the group/block size nearest to the written one that fits the layer. The
 * refitted config is re-parsed from its fields and validated against the layer, so it is always a config the method
 * itself accepts.
 */
public enum Fallback {
  ERROR, SKIP, PER_TENSOR, PER_CHANNEL, NEAREST;

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** @throws IllegalArgumentException naming the choices for anything else */
  public static Fallback parse(String text) {
    for (Fallback fallback : values()) {
      if (fallback.id().equals(text)) {
        return fallback;
      }
    }
    throw new IllegalArgumentException("fallback must be one of error, skip, per_tensor, per_channel, nearest; got '"
        + text + "'");
  }

  /**
   * The config this fallback applies instead of {@code config} on a layer of {@code rows} x {@code cols}, with a
   * description of what it changed; empty when it has no way to make the config fit (or is error/skip).
   */
  public Optional<Refit> refit(CompressionConfig config, int rows, int cols) {
    Map<String, Object> fields = config.fields();
    List<Map<String, Object>> candidates = new ArrayList<>();
    switch (this) {
      case PER_TENSOR -> {
        if (fields.containsKey("granularity")) {
          candidates.add(without(with(fields, "granularity", "per_tensor"), "group_size", "block_size"));
        }
      }
      case PER_CHANNEL -> {
        if ("palettize".equals(fields.get("method"))) {
          candidates.add(with(with(fields, "granularity", "per_grouped_channel"), "group_size", 1));
        } else if (fields.containsKey("granularity")) {
          candidates.add(without(with(fields, "granularity", "per_channel"), "block_size"));
        } else if (fields.containsKey("group_size")) {
          candidates.add(with(fields, "group_size", 0));
        }
      }
      case NEAREST -> {
        for (String field : List.of("group_size", "block_size", "prune_block_size")) {
          if (fields.get(field) instanceof Integer written && written > 0) {
            // palettize groups output channels; every other size counts weights along a row
            boolean ofRows = field.equals("group_size") && "palettize".equals(fields.get("method"));
            for (int size : nearestDivisors(written, ofRows ? rows : cols)) {
              candidates.add(with(fields, field, size));
            }
          }
        }
      }
      default -> { }
    }
    for (Map<String, Object> candidate : candidates) {
      try {
        CompressionConfig refitted = Methods.ALL.parse(candidate);
        refitted.validateFor(rows, cols);
        return Optional.of(new Refit(refitted, describe(fields, candidate)));
      } catch (IllegalArgumentException e) { // a ConfigException too
        // this candidate does not fit either: try the next
      }
    }
    return Optional.empty();
  }

  /** A config that fits, and what the fallback changed, e.g. {@code nearest: group_size 16 -> 13}. */
  public record Refit(CompressionConfig config, String applied) {}

  private String describe(Map<String, Object> written, Map<String, Object> applied) {
    List<String> changes = new ArrayList<>();
    applied.forEach((key, value) -> {
      if (!java.util.Objects.equals(value, written.get(key))) {
        changes.add(key + " " + written.get(key) + " -> " + value);
      }
    });
    return id() + ": " + String.join(", ", changes);
  }

  /** The divisors of {@code n}, nearest to {@code written} first (the smaller on a tie). */
  private static List<Integer> nearestDivisors(int written, int n) {
    List<Integer> sizes = new ArrayList<>();
    for (int d = 1; d <= n; d++) {
      if (n % d == 0) {
        sizes.add(d);
      }
    }
    sizes.sort(Comparator.<Integer>comparingInt(d -> Math.abs(d - written)).thenComparingInt(d -> d));
    return sizes;
  }

  private static Map<String, Object> without(Map<String, Object> fields, String... keys) {
    Map<String, Object> copy = new LinkedHashMap<>(fields);
    for (String key : keys) {
      copy.remove(key);
    }
    return copy;
  }

  private static Map<String, Object> with(Map<String, Object> fields, String key, Object value) {
    Map<String, Object> copy = new LinkedHashMap<>(fields);
    copy.put(key, value);
    return copy;
  }
}
