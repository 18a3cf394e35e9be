package dev.bitsweep.search;

import dev.bitsweep.methods.Methods;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * coremltools' fix progression as the default candidates: k-means 4-bit per tensor, 4-bit per 16-channel group,
 * 6-bit, 8-bit, and where calibration data exists the calibrated variants (Hessian-weighted k-means 4-bit, GPTQ
 * 4-bit per channel); leaving a layer original (fp32) is always an option.
 */
final class DefaultLadder {
  private DefaultLadder() {}

  static List<SearchSpec.Candidate> of(boolean calibrated) {
    List<SearchSpec.Candidate> ladder = new ArrayList<>();
    ladder.add(candidate("kmeans4", Map.of("method", "palettize", "mode", "kmeans", "nbits", 4, "granularity", "per_tensor")));
    ladder.add(candidate("kmeans4-g16", Map.of("method", "palettize", "mode", "kmeans", "nbits", 4,
        "granularity", "per_grouped_channel", "group_size", 16)));
    ladder.add(candidate("kmeans6", Map.of("method", "palettize", "mode", "kmeans", "nbits", 6, "granularity", "per_tensor")));
    ladder.add(candidate("kmeans8", Map.of("method", "palettize", "mode", "kmeans", "nbits", 8, "granularity", "per_tensor")));
    if (calibrated) {
      ladder.add(candidate("kmeans4-hessian", Map.of("method", "palettize", "mode", "kmeans", "nbits", 4,
          "granularity", "per_tensor", "sensitivity", "hessian")));
      ladder.add(candidate("gptq4", Map.of("method", "gptq", "nbits", 4)));
    }
    return ladder;
  }

  private static SearchSpec.Candidate candidate(String id, Map<String, Object> fields) {
    return new SearchSpec.Candidate(id, Methods.ALL.parse(new LinkedHashMap<>(fields)));
  }
}
