package dev.bitsweep.spec;

import dev.bitsweep.activations.ActivationQuantConfig;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.eval.metrics.Metrics;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.methods.Fallback;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.packaging.Packager;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
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
    List<SweepConfig> configs,
    Map<String, Object> taskFields,
    Path labels,
    long packageExternalDataBytes)
    implements Serializable {

  /**
   * What the evaluation measures (see README, "Tasks"). Every task but embedding is a
   * {@link dev.bitsweep.eval.metrics.Metric} built by {@link Metrics#fromFields} from {@link #taskFields()}.
   */
  public enum Task {
    CLASSIFICATION, AGREEMENT, EMBEDDING, BINARY, CTC, REGRESSION, LANGUAGE_MODEL, USER;

    public String label() {
      return name().toLowerCase();
    }
  }

  static final List<String> TOP_KEYS = List.of("name", "model", "task", "eval_data", "eval_samples", "batch_size",
      "calibration_data", "calibration_samples", "weight_threshold", "out", "configs", "grid", "search", "inputs",
      "package_external_data_bytes");
  private static final List<String> RULE_KEYS = List.of("id", "op_types", "layers", "fallback");

  /** Keys of a {@code task:} map; {@code name} is the task, the rest its fields. */
  static final List<String> TASK_KEYS = List.of("name", "output", "class_axis", "threshold", "time_axis", "blank",
      "vocabulary", "labels", "metric_class", "options", "input", "attention_mask");

  public SweepSpec {
    Objects.requireNonNull(model, "model");
    configs = List.copyOf(configs);
    taskFields = taskFields == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(taskFields));
    if (packageExternalDataBytes < 1) {
      throw new IllegalArgumentException("package_external_data_bytes must be >= 1, got " + packageExternalDataBytes);
    }
  }

  /** The model output the task's metrics read, or null for the model's first output. */
  public String output() {
    return taskFields == null ? null : (String) taskFields.get("output");
  }

  /** True when some config quantizes activations. */
  public boolean quantizesActivations() {
    return configs.stream().anyMatch(SweepConfig::quantizesActivations);
  }

  public static SweepSpec read(Path specFile) {
    YamlNode root = YamlNode.read(specFile);
    root.requireKeys(TOP_KEYS);
    Map<String, YamlNode> top = root.map();
    Path base = Optional.ofNullable(specFile.toAbsolutePath().getParent()).orElse(Path.of("."));

    String name = top.containsKey("name") ? top.get("name").text() : stem(specFile);
    if (!ConfigIds.isSafeSegment(name)) {
      YamlNode at = top.containsKey("name") ? top.get("name") : root;
      throw at.error("'" + name + "' must start with a letter or digit and use only letters, digits, '.', '_'"
          + " and '-', at most 200 characters (it names directories)" + (top.containsKey("name") ? ""
          : "; the spec file's name is used when there is no 'name', so add one"));
    }
    YamlNode modelNode = required(root, "model");
    Path model = base.resolve(modelNode.text()).normalize();
    YamlNode taskNode = top.get("task");
    Task task = taskNode == null ? Task.AGREEMENT : task(taskNode);
    Map<String, Object> taskFields = taskFields(taskNode, task, base);
    Path labels = null;
    if (taskNode != null && taskNode.isMap() && taskNode.map().containsKey("labels")) {
      labels = base.resolve(taskNode.map().get("labels").text()).normalize();
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
    long packageExternalDataBytes = top.containsKey("package_external_data_bytes")
        ? top.get("package_external_data_bytes").integer() : Packager.DEFAULT_EXTERNAL_DATA_BYTES;
    if (packageExternalDataBytes < 1) {
      throw top.get("package_external_data_bytes").error("package_external_data_bytes must be >= 1 (packages larger"
          + " than this many bytes are written with external data; default " + Packager.DEFAULT_EXTERNAL_DATA_BYTES + ")");
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
      checkGridSize(top.get("grid"), configs.size());
      for (YamlNode entry : top.get("grid").list()) {
        for (Map<String, YamlNode> point : expand(entry)) {
          add(configs, idLines, entry, parseConfig(entry, point));
        }
      }
    }
    if (configs.isEmpty() && !top.containsKey("search")) { // a search spec's configs come from dev.bitsweep.search
      throw root.error("the sweep has no configs: add a 'configs' list or a 'grid' (see calibration-data/digits/sweep.yaml)");
    }
    if (calibrationData == null) {
      for (SweepConfig config : configs) {
        if (config.quantizesActivations()) {
          throw root.error("config '" + config.configId() + "' quantizes activations, whose ranges are calibrated on "
              + "calibration data: add 'calibration_data: <directory>' (one <input>.npy per model input) to the spec");
        }
      }
    }
    return new SweepSpec(name, specFile.toAbsolutePath(), model, task, evalData, evalSamples, batchSize,
        calibrationData, calibrationSamples, weightThreshold, out, configs, taskFields, labels,
        packageExternalDataBytes);
  }

  private static Task task(YamlNode node) {
    YamlNode nameNode = node;
    if (node.isMap()) {
      node.requireKeys(TASK_KEYS);
      nameNode = node.map().get("name");
      if (nameNode == null || nameNode.isNull()) {
        throw node.error("a task map needs 'name' (one of " + taskNames() + ")");
      }
    }
    String text = nameNode.text();
    for (Task task : Task.values()) {
      if (task.label().equals(text)) {
        return task;
      }
    }
    throw nameNode.error("task must be one of " + taskNames() + " (classification: top-1/top-5 accuracy against "
        + "labels; agreement: top-1 agreement with the original model; embedding: cosine of mean-pooled embeddings; "
        + "binary: ROC AUC and accuracy of a score at a threshold; ctc: greedy CTC decode, exact lines and CER; "
        + "regression: MSE/MAE against targets; language_model: perplexity, next-token agreement and KL divergence "
        + "of a causal LM's logits; user: a metric_class on the classpath), got '" + text + "'"
        + (Suggest.closest(text, taskNames()) == null ? "" : " (did you mean '" + Suggest.closest(text, taskNames())
        + "'?)"));
  }

  private static List<String> taskNames() {
    return java.util.Arrays.stream(Task.values()).map(Task::label).toList();
  }

  /**
   * The task's fields as {@link Metrics#fromFields} takes them (paths made absolute, {@code metric_class} as
   * {@code class}), checked by building the metric once; null for embedding, which is no metric.
   */
  private static Map<String, Object> taskFields(YamlNode node, Task task, Path base) {
    Map<String, YamlNode> given = node != null && node.isMap() ? node.map() : Map.of();
    if (task == Task.EMBEDDING) {
      for (String key : given.keySet()) {
        if (!key.equals("name") && !key.equals("output")) {
          throw given.get(key).error("task embedding takes only 'output' (the embedding output), not '" + key + "'");
        }
      }
      return given.containsKey("output") ? Map.of("output", given.get("output").text()) : null;
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("task", task.label());
    Map<String, YamlNode> where = new HashMap<>();
    for (Map.Entry<String, YamlNode> entry : given.entrySet()) {
      String key = switch (entry.getKey()) {
        case "metric_class" -> "class";
        default -> entry.getKey();
      };
      if (key.equals("name") || key.equals("labels")) {
        continue;
      }
      Object value = entry.getValue().plain();
      if (key.equals("vocabulary") && value instanceof String path) {
        value = base.resolve(path).normalize().toString();
      }
      fields.put(key, value);
      where.put(key, entry.getValue());
    }
    Map<String, Object> check = new LinkedHashMap<>(fields);
    check.putIfAbsent("output", "(the model's first output)");
    if (task == Task.LANGUAGE_MODEL) {
      check.putIfAbsent("input", "(the model's token input)"); // the planner resolves both defaults on the model
    }
    if (task == Task.USER) {
      check.remove("output");
      fields.remove("output");
    }
    try {
      Metrics.fromFields(check, base);
    } catch (ConfigException e) {
      String key = e.field().equals("class") ? "metric_class" : e.field();
      YamlNode at = given.getOrDefault(key, node == null ? null : node);
      String message = e.getMessage();
      String prefix = e.field() + ": ";
      String text = key + ": " + (message.startsWith(prefix) ? message.substring(prefix.length()) : message);
      throw at == null ? new SpecException(text) : at.error(text);
    } catch (IllegalArgumentException e) {
      throw node == null ? new SpecException(e.getMessage()) : node.error("task " + task.label() + ": " + e.getMessage());
    }
    return fields;
  }

  private static void add(List<SweepConfig> configs, Map<String, Integer> idLines, YamlNode entry, SweepConfig config) {
    Integer previous = idLines.putIfAbsent(config.configId(), entry.line());
    if (previous != null) {
      throw entry.error("config id '" + config.configId() + "' is produced twice (also at line " + previous
          + "); remove the duplicate, or " + (entry.map().containsKey("id") ? "give one another id"
          : "move the configs into 'configs:' entries, each with its own 'id:'"));
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

  /** More configs than this in one sweep are refused before anything is expanded or read. */
  public static final int MAX_CONFIGS = 1000;

  private static void checkGridSize(YamlNode grid, int explicitConfigs) {
    long total = explicitConfigs;
    StringBuilder parts = new StringBuilder();
    for (YamlNode entry : grid.list()) {
      long points = 1;
      String widest = null;
      int widestSize = 1;
      for (Map.Entry<String, YamlNode> field : entry.map().entrySet()) {
        YamlNode value = field.getValue();
        if (varies(field.getKey(), value)) {
          int size = value.list().size();
          points = Math.multiplyExact(points, Math.max(size, 1));
          if (size > widestSize) {
            widest = field.getKey();
            widestSize = size;
          }
        }
      }
      total += points;
      parts.append(parts.length() == 0 ? "" : ", ").append("line ").append(entry.line()).append(": ").append(points)
          .append(widest == null ? "" : " (" + widestSize + " values of '" + widest + "')");
    }
    if (total > MAX_CONFIGS) {
      throw grid.error("the sweep has " + total + " configs (grid " + parts + "), more than the " + MAX_CONFIGS
          + " one sweep may hold; split it into several specs of at most " + MAX_CONFIGS + " configs each (e.g. one"
          + " spec per value of the widest list, all with the same 'out' so their results sit side by side)");
    }
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
    ActivationQuantConfig activations = null;
    YamlNode activationNode = methodFields.remove(ACTIVATIONS_KEY);
    if (activationNode != null) {
      activations = activationConfig(activationNode);
    }
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
    if (global == null && opTypes.isEmpty() && rules.isEmpty() && activations == null) {
      throw entry.error("a config needs a method (palettize, linear_quantize, prune, ...), op_types/layers rules or "
          + "activations");
    }
    String id = fields.containsKey("id") ? fields.get("id").text() : null;
    if (id == null) {
      id = ConfigIds.of(global, opTypes, rules, activations);
    } else if (!ConfigIds.isSafeSegment(id)) {
      throw fields.get("id").error("'" + id + "' must start with a letter or digit and use only letters,"
          + " digits, '.', '_' and '-', at most 200 characters (it names a directory)");
    }
    Fallback fallback = Fallback.ERROR;
    if (fields.containsKey("fallback")) {
      try {
        fallback = Fallback.parse(fields.get("fallback").text());
      } catch (IllegalArgumentException e) {
        throw fields.get("fallback").error(e.getMessage());
      }
    }
    return new SweepConfig(id, global, opTypes, rules, activations, fallback);
  }

  /** The key of a config's activation quantization: {@code activations: {dtype, calibration, percentile, symmetric}}. */
  static final String ACTIVATIONS_KEY = "activations";

  private static ActivationQuantConfig activationConfig(YamlNode node) {
    if (node.isNull()) {
      return ActivationQuantConfig.defaults();
    }
    if (!node.isMap()) {
      throw node.error("activations must be a map, e.g. {dtype: int8, calibration: minmax} (fields "
          + ActivationQuantConfig.FIELD_NAMES + "), got " + node.describe());
    }
    Map<String, Object> plain = new LinkedHashMap<>();
    node.map().forEach((k, v) -> plain.put(k, v.plain()));
    try {
      return ActivationQuantConfig.fromFields(plain);
    } catch (ConfigException e) {
      YamlNode at = node.map().getOrDefault(e.field(), node);
      String message = e.getMessage();
      String prefix = e.field() + ": ";
      throw at.error("activations." + e.field() + ": "
          + (message.startsWith(prefix) ? message.substring(prefix.length()) : message));
    }
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
