package dev.bitsweep.onnx.encode;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The decode values that the weights of one graph share: small constants (shapes, scalars), iotas, the byte tables
 * of bit-plane unpacking and the triangles of prefix sums. The first weight that needs one adds its nodes; later
 * weights of the same graph read it by name, so a model of many small layers pays for each pattern once.
 *
 * <p>Each entry remembers the op types and catalog components that built it, so a weight that reuses it still
 * reports the full decode it depends on.
 */
final class SharedDecodeValues {
  record Entry(String name, List<String> ops, List<EncodingCatalog> components) {}

  private final Map<String, Entry> entries = new HashMap<>();

  /** The value stored under {@code key}, if the graph still has it ({@code present} tests the graph's names). */
  Entry get(String key, Predicate<String> present) {
    Entry entry = entries.get(key);
    return entry != null && present.test(entry.name()) ? entry : null;
  }

  /** Values a weight's decode created, once that decode is in the graph. */
  void addAll(Map<String, Entry> created, Set<String> kept) {
    created.forEach((key, entry) -> {
      if (kept.contains(entry.name())) {
        entries.put(key, entry);
      }
    });
  }
}
