package dev.bitsweep.spec;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.methods.Methods;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.PatternSyntaxException;

/**
 * A sweep: the model, its data, the task and the grid of configs. Read from YAML; every problem is reported with
 * the file, line and key. Relative paths are relative to the spec file, except {@code out}, which is relative to the
 * working directory.
 */
public record SweepSpec(
    String name,
    Path specFile,
    Path model,
    Task task,
    Path evalData,
    int evalSamples,
    int batchSize,
    Path calibrationData,
    int calibrationSamples,
    long weightThreshold,
    Path out,
    List<SweepConfig> configs)
    implements Serializable {

  public enum Task {
    CLASSIFICATION, AGREEMENT, EMBEDDING;

    public String label() {
      return name().toLowerCase();
    }
  }

  static final List<String> TOP_KEYS = List.of("name", "model", "task", "eval_data", "eval_samples", "batch_size",
      "calibration_data", "calibration_samples", "weight_threshold", "out", "configs", "grid", "inputs");
  private static final List<String> RULE_KEYS = List.of("id", "op_types", "layers");

  public SweepSpec {
    Objects.requireNonNull(model, "model");
    configs = List.copyOf(configs);
  }

  public static SweepSpec read(Path specFile) {
    YamlNode root = YamlNode.read(specFile);
    root.requireKeys(TOP_KEYS);
    Map<String, YamlNode> top = root.map();
    Path base = Optional.ofNullable(specFile.toAbsolutePath().getParent()).orElse(Path.of("."));

    String name = top.containsKey("name") ? top.get("name").text() : stem(specFile);
    if (!name.matches("[A-Za-z0-9._-]+")) {
      throw top.get("name").error("name '" + name + "' may only use letters, digits, '.', '_' and '-' (it names directories)");
    }
    YamlNode modelNode = required(root, "model");
    Path model = base.resolve(modelNode.text()).normalize();
    Task task = Task.AGREEMENT;
    if (top.containsKey("task")) {
      String text = top.get("task").text();
      try {
        task = Task.valueOf(text.toUpperCase());
      } catch (IllegalArgumentException e) {
        throw top.get("task").error("task must be classification (top-1 accuracy against labels.npy), agreement"
            + " (compare with the original model only) or embedding (cosine of mean-pooled embeddings), got '" + text + "'");
      }
    }
    Path evalData = base.resolve(required(root, "eval_data").text()).normalize();
    int evalSamples = (int) positive(top.get("eval_samples"), 0, true);
    int batchSize = (int) positive(top.get("batch_size"), 64, false);
    Path calibrationData = top.containsKey("calibration_data") ? base.resolve(top.get("calibration_data").text()).normalize() : null;
    int calibrationSamples = (int) positive(top.get("calibration_samples"), 0, true);
    long weightThreshold = top.containsKey("weight_threshold") ? top.get("weight_threshold").integer()
        : LayerFinder.DEFAULT_WEIGHT_THRESHOLD;
    if (weightThreshold < 0) {
      throw top.get("weight_threshold").error("weight_threshold must be >= 0 elements");
    }
    Path out = top.containsKey("out") ? Path.of(top.get("out").text()) : Path.of("bitsweep-out", name);

    List<SweepConfig> configs = new ArrayList<>();
    Map<String, Integer> idLines = new HashMap<>();
    if (top.containsKey("configs")) {
      for (YamlNode entry : top.get("configs").list()) {
        add(configs, idLines, entry, parseConfig(entry, entry.map()));
      }
    }
    if (top.containsKey("grid")) {
      for (YamlNode entry : top.get("grid").list()) {
        for (Map<String, YamlNode> point : expand(entry)) {
          add(configs, idLines, entry, parseConfig(entry, point));
        }
      }
    }
    if (configs.isEmpty()) {
      throw root.error("the sweep has no configs: add a 'configs' list or a 'grid' (see calibration-data/digits/sweep.yaml)");
    }
    return new SweepSpec(name, specFile.toAbsolutePath(), model, task, evalData, evalSamples, batchSize,
        calibrationData, calibrationSamples, weightThreshold, out, configs);
  }

  private static void add(List<SweepConfig> configs, Map<String, Integer> idLines, YamlNode entry, SweepConfig config) {
    Integer previous = idLines.putIfAbsent(config.configId(), entry.line());
    if (previous != null) {
      throw entry.error("config id '" + config.configId() + "' is produced twice (also at line " + previous
          + "); remove the duplicate or give one an explicit id");
    }
    configs.add(config);
  }

  private static YamlNode required(YamlNode root, String key) {
    YamlNode node = root.map().get(key);
    if (node == null || node.isNull()) {
      throw root.error("missing required key '" + key + "'");
    }
    return node;
  }

  private static long positive(YamlNode node, long defaultValue, boolean zeroAllowed) {
    if (node == null) {
      return defaultValue;
    }
    long value = node.integer();
    if (value < 0 || (!zeroAllowed && value == 0)) {
      throw node.error("must be " + (zeroAllowed ? ">= 0" : "> 0") + ", got " + value);
    }
    return value;
  }

  /** Fields whose value is a list in a single config: in a grid they do not vary unless given as a list of lists. */
  static final List<String> LIST_VALUED_FIELDS = List.of("n_m_ratio", "custom_lut");

  /**
   * The cartesian product of a grid entry: every key whose value is a list varies, except the list-valued fields
   * ({@link #LIST_VALUED_FIELDS}), which vary only when given as a list of lists.
   */
  static List<Map<String, YamlNode>> expand(YamlNode entry) {
    List<Map<String, YamlNode>> points = new ArrayList<>();
    points.add(new LinkedHashMap<>());
    for (Map.Entry<String, YamlNode> field : entry.map().entrySet()) {
      if (field.getKey().equals("id")) {
        throw field.getValue().error("grid entries get their ids generated; use 'configs' for a config with an explicit id");
      }
      List<YamlNode> values = varies(field.getKey(), field.getValue()) ? field.getValue().list() : List.of(field.getValue());
      List<Map<String, YamlNode>> next = new ArrayList<>();
      for (Map<String, YamlNode> point : points) {
        for (YamlNode value : values) {
          Map<String, YamlNode> extended = new LinkedHashMap<>(point);
          extended.put(field.getKey(), value);
          next.add(extended);
        }
      }
      points = next;
    }
    return points;
  }

  private static boolean varies(String key, YamlNode value) {
    if (!value.isList()) {
      return false;
    }
    if (!LIST_VALUED_FIELDS.contains(key)) {
      return true;
    }
    List<YamlNode> elements = value.list();
    return !elements.isEmpty() && elements.stream().allMatch(YamlNode::isList);
  }

  private static SweepConfig parseConfig(YamlNode entry, Map<String, YamlNode> fields) {
    Map<String, YamlNode> methodFields = new LinkedHashMap<>(fields);
    RULE_KEYS.forEach(methodFields::remove);
    CompressionConfig global = methodFields.isEmpty() ? null : compressionConfig(entry, methodFields);
    Map<String, CompressionConfig> opTypes = new LinkedHashMap<>();
    if (fields.containsKey("op_types")) {
      for (Map.Entry<String, YamlNode> op : fields.get("op_types").map().entrySet()) {
        YamlNode value = op.getValue();
        opTypes.put(op.getKey(), value.isNull() ? null : compressionConfig(value, value.map()));
      }
    }
    List<SweepConfig.LayerRule> rules = new ArrayList<>();
    if (fields.containsKey("layers")) {
      for (Map.Entry<String, YamlNode> rule : fields.get("layers").map().entrySet()) {
        YamlNode value = rule.getValue();
        String pattern = rule.getKey();
        boolean regex = pattern.startsWith("re:");
        if (regex) {
          pattern = pattern.substring(3);
        }
        CompressionConfig config = value.isNull() ? null : compressionConfig(value, value.map());
        try {
          rules.add(new SweepConfig.LayerRule(pattern, regex, config));
        } catch (PatternSyntaxException e) {
          throw value.error("layer pattern '" + pattern + "' is not a valid regular expression: " + e.getDescription());
        }
      }
    }
    if (global == null && opTypes.isEmpty() && rules.isEmpty()) {
      throw entry.error("a config needs a method (palettize, linear_quantize, prune, ...) or op_types/layers rules");
    }
    String id = fields.containsKey("id") ? fields.get("id").text() : null;
    if (id == null) {
      id = ConfigIds.of(global, opTypes, rules);
    } else if (!id.matches("[A-Za-z0-9._-]+")) {
      throw fields.get("id").error("config id '" + id + "' may only use letters, digits, '.', '_' and '-' (it names a directory)");
    }
    return new SweepConfig(id, global, opTypes, rules);
  }

  private static CompressionConfig compressionConfig(YamlNode where, Map<String, YamlNode> fields) {
    Map<String, Object> plain = new LinkedHashMap<>();
    fields.forEach((k, v) -> plain.put(k, v.plain()));
    try {
      return Methods.ALL.parse(plain);
    } catch (ConfigException e) {
      YamlNode at = fields.getOrDefault(e.field(), where);
      String message = e.getMessage();
      String prefix = e.field() + ": ";
      throw at.error(fields.containsKey(e.field()) && message.startsWith(prefix) ? message.substring(prefix.length()) : message);
    } catch (IllegalArgumentException e) {
      throw where.error(e.getMessage());
    }
  }

  private static String stem(Path file) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }
}
