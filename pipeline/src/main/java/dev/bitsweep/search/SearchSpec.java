package dev.bitsweep.search;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.spec.ConfigIds;
import dev.bitsweep.spec.SpecException;
import dev.bitsweep.spec.SweepSpec;
import dev.bitsweep.spec.YamlNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A spec with a {@code search:} section: the sweep's model, data and task (read by {@link SweepSpec}), the candidate
 * configs per layer, and either a metric budget (find the smallest plan that meets it) or a size cap (find the best
 * metric under it).
 *
 * <pre>
 * search:
 *   candidates:                      # optional; default: the ladder below
 *     - {method: palettize, mode: kmeans, nbits: 4, granularity: per_tensor}
 *   budget: {metric: accuracy, max_drop: 0.01}     # or {metric: embedding_cosine, min: 0.99},
 *                                                  # {metric: perplexity, max_increase: 0.1}
 *   size_cap: {bits_per_weight: 4.5}               # instead of budget: or {bytes: N}
 *   target: bits_per_weight          # what "smallest" counts: bits_per_weight (default) or bytes
 *   max_iterations: 6                # build-evaluate-correct rounds
 *   keep_sensitivity_packages: false # the one-layer packages are deleted once measured
 * </pre>
 */
public record SearchSpec(SweepSpec sweep, List<Candidate> candidates, Budget budget, SizeCap sizeCap, String target,
    int maxIterations, boolean keepSensitivityPackages) {

  /** A candidate config with its id. */
  public record Candidate(String id, CompressionConfig config) {}

  /** At most this many bits per weight over the searched layers, or this many package bytes. */
  public record SizeCap(Double bitsPerWeight, Long bytes) {}

  static final List<String> KEYS = List.of("candidates", "budget", "size_cap", "target", "max_iterations",
      "keep_sensitivity_packages");

  public SearchSpec {
    candidates = List.copyOf(candidates);
  }

  public static SearchSpec read(Path specFile) {
    SweepSpec sweep = SweepSpec.read(specFile);
    YamlNode root = YamlNode.read(specFile);
    YamlNode search = root.map().get("search");
    if (search == null || !search.isMap()) {
      throw root.error("a search spec needs a 'search:' section with a budget or a size_cap"
          + " (see calibration-data/fashion-mnist/mixed.yaml)");
    }
    search.requireKeys(KEYS);
    Map<String, YamlNode> keys = search.map();
    List<Candidate> candidates = keys.containsKey("candidates") ? candidates(keys.get("candidates"))
        : DefaultLadder.of(sweep.calibrationData() != null);
    Budget budget = keys.containsKey("budget") ? budget(keys.get("budget"), sweep.task()) : null;
    SizeCap cap = keys.containsKey("size_cap") ? sizeCap(keys.get("size_cap")) : null;
    if ((budget == null) == (cap == null)) {
      throw search.error("give exactly one of 'budget' (e.g. {metric: accuracy, max_drop: 0.01}: the smallest plan"
          + " that meets it) and 'size_cap' (e.g. {bits_per_weight: 4.5}: the best metric under it)");
    }
    String target = keys.containsKey("target") ? keys.get("target").text() : "bits_per_weight";
    if (!target.equals("bits_per_weight") && !target.equals("bytes")) {
      throw keys.get("target").error("target must be bits_per_weight or bytes, got '" + target + "'");
    }
    int maxIterations = keys.containsKey("max_iterations") ? (int) keys.get("max_iterations").integer() : 6;
    if (maxIterations < 1) {
      throw keys.get("max_iterations").error("max_iterations must be >= 1, got " + maxIterations);
    }
    boolean keep = keys.containsKey("keep_sensitivity_packages")
        && Boolean.TRUE.equals(keys.get("keep_sensitivity_packages").plain());
    for (Candidate c : candidates) {
      if (c.config().needsCalibration() && sweep.calibrationData() == null) {
        throw new SpecException(specFile + ": candidate '" + c.id() + "' needs calibration statistics: add"
            + " 'calibration_data: <directory>' to the spec or drop the candidate");
      }
    }
    return new SearchSpec(sweep, candidates, budget, cap, target, maxIterations, keep);
  }

  private static List<Candidate> candidates(YamlNode node) {
    List<Candidate> candidates = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (YamlNode entry : node.list()) {
      Map<String, Object> fields = new LinkedHashMap<>();
      entry.map().forEach((k, v) -> fields.put(k, v.plain()));
      Object id = fields.remove("id");
      CompressionConfig config;
      try {
        config = Methods.ALL.parse(fields);
      } catch (ConfigException e) {
        throw entry.map().getOrDefault(e.field(), entry).error(e.getMessage());
      } catch (IllegalArgumentException e) {
        throw entry.error(e.getMessage());
      }
      String name = id == null ? ConfigIds.of(config, Map.of(), List.of()) : id.toString();
      if (!name.matches("[A-Za-z0-9._-]+") || name.equals("fp32")) {
        throw entry.error("candidate id '" + name + "' may only use letters, digits, '.', '_' and '-', and fp32 names"
            + " the original weights");
      }
      if (!ids.add(name)) {
        throw entry.error("candidate '" + name + "' is listed twice");
      }
      candidates.add(new Candidate(name, config));
    }
    if (candidates.isEmpty()) {
      throw node.error("candidates is empty; list at least one config, or remove the key for the default ladder");
    }
    return candidates;
  }

  private static Budget budget(YamlNode node, SweepSpec.Task task) {
    node.requireKeys(List.of("metric", "max_drop", "max_increase", "min", "max"));
    Map<String, YamlNode> keys = node.map();
    Budget.Metric defaultMetric = switch (task) {
      case CLASSIFICATION -> Budget.Metric.ACCURACY;
      case AGREEMENT -> Budget.Metric.AGREEMENT;
      case EMBEDDING -> Budget.Metric.EMBEDDING_COSINE;
      case LANGUAGE_MODEL -> Budget.Metric.PERPLEXITY;
      default -> Budget.Metric.OUTPUT_SNR_DB;
    };
    Budget.Metric metric = defaultMetric;
    if (keys.containsKey("metric")) {
      String text = keys.get("metric").text();
      try {
        metric = Budget.Metric.valueOf(text.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw keys.get("metric").error("metric must be accuracy, agreement, embedding_cosine, output_snr_db or "
            + "perplexity, got '" + text + "'");
      }
      boolean measured = switch (metric) {
        case ACCURACY -> task == SweepSpec.Task.CLASSIFICATION;
        case AGREEMENT -> task != SweepSpec.Task.EMBEDDING;
        case EMBEDDING_COSINE -> task == SweepSpec.Task.EMBEDDING;
        case OUTPUT_SNR_DB -> true;
        case PERPLEXITY -> task == SweepSpec.Task.LANGUAGE_MODEL;
      };
      if (!measured) {
        throw keys.get("metric").error("a " + task.label() + " sweep does not measure " + metric.label()
            + "; use " + defaultMetric.label() + " or output_snr_db");
      }
    }
    List<String> bounds = new ArrayList<>(keys.keySet());
    bounds.remove("metric");
    if (bounds.size() != 1) {
      throw node.error("a budget has one bound: max_drop, max_increase, min or max (got " + bounds + ")");
    }
    String bound = bounds.get(0);
    double value = number(keys.get(bound));
    Budget.Kind kind = Budget.Kind.valueOf(bound.toUpperCase(Locale.ROOT));
    if ((kind == Budget.Kind.MAX_DROP || kind == Budget.Kind.MAX_INCREASE) && value < 0) {
      throw keys.get(bound).error(bound + " must be >= 0, got " + value);
    }
    if (metric.higherIsBetter() && (kind == Budget.Kind.MAX_INCREASE || kind == Budget.Kind.MAX)) {
      throw keys.get(bound).error(metric.label() + " is better when higher: use max_drop or min");
    }
    if (!metric.higherIsBetter() && (kind == Budget.Kind.MAX_DROP || kind == Budget.Kind.MIN)) {
      throw keys.get(bound).error(metric.label() + " is better when lower: use max_increase (over the original's) or"
          + " max");
    }
    if (metric == Budget.Metric.OUTPUT_SNR_DB && kind == Budget.Kind.MAX_DROP) {
      throw keys.get(bound).error("output_snr_db is +Infinity for the original model; give a 'min' in dB");
    }
    return new Budget(metric, kind, value);
  }

  private static SizeCap sizeCap(YamlNode node) {
    node.requireKeys(List.of("bits_per_weight", "bytes"));
    Map<String, YamlNode> keys = node.map();
    if (keys.size() != 1) {
      throw node.error("a size_cap has one key: bits_per_weight or bytes");
    }
    if (keys.containsKey("bytes")) {
      long bytes = keys.get("bytes").integer();
      if (bytes <= 0) {
        throw keys.get("bytes").error("bytes must be > 0, got " + bytes);
      }
      return new SizeCap(null, bytes);
    }
    double bits = number(keys.get("bits_per_weight"));
    if (!(bits > 0)) {
      throw keys.get("bits_per_weight").error("bits_per_weight must be > 0, got " + bits);
    }
    return new SizeCap(bits, null);
  }

  private static double number(YamlNode node) {
    if (node.plain() instanceof Number n) {
      return n.doubleValue();
    }
    throw node.error("expected a number, got '" + node.describe() + "'");
  }

  /** Where this search's results go: --out, else the spec's out. */
  public Path out(Path outOverride) {
    return (outOverride != null ? outOverride : sweep.out()).toAbsolutePath().normalize();
  }
}
