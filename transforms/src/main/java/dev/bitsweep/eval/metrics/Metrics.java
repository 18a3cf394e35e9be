package dev.bitsweep.eval.metrics;

import dev.bitsweep.compress.ConfigException;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The task metrics by spec name, built from the spec's task fields (the YAML wiring passes the map):
 * <pre>
 * task: classification   output, class_axis (-1)
 * task: agreement        output, class_axis (-1)
 * task: binary           output, threshold (0.5)
 * task: ctc              output, time_axis (1), class_axis (2), blank (0), vocabulary (file, optional)
 * task: regression       output
 * task: language_model   input (token ids [batch, sequence]), output (logits [batch, sequence, vocabulary]),
 *                        attention_mask (an input, optional)
 * task: user             class (a {@link Metric} on the classpath), options (map, optional)
 * </pre>
 * {@code output} (the model output the metric reads, by name) is required for every built-in task.
 */
public final class Metrics {
  private static final Map<String, List<String>> FIELDS = new LinkedHashMap<>();

  static {
    FIELDS.put("classification", List.of("task", "output", "class_axis"));
    FIELDS.put("agreement", List.of("task", "output", "class_axis"));
    FIELDS.put("binary", List.of("task", "output", "threshold"));
    FIELDS.put("ctc", List.of("task", "output", "time_axis", "class_axis", "blank", "vocabulary"));
    FIELDS.put("regression", List.of("task", "output"));
    FIELDS.put("language_model", List.of("task", "input", "attention_mask", "output"));
    FIELDS.put("user", List.of("task", "class", "options"));
  }

  private Metrics() {}

  /** The metric of a task's fields; relative paths (the vocabulary) resolve against {@code base}. */
  public static Metric<?> fromFields(Map<String, Object> fields, Path base) {
    Object task = fields.get("task");
    if (!(task instanceof String name) || !FIELDS.containsKey(name)) {
      throw new ConfigException("task", "expected one of " + FIELDS.keySet() + " but got " + task);
    }
    for (String key : fields.keySet()) {
      if (!FIELDS.get(name).contains(key)) {
        throw new ConfigException(key, "unknown field for task " + name + "; allowed fields are " + FIELDS.get(name));
      }
    }
    return switch (name) {
      case "classification" -> new ClassificationMetric(output(fields, name), integer(fields, "class_axis", -1));
      case "agreement" -> new AgreementMetric(output(fields, name), integer(fields, "class_axis", -1));
      case "binary" -> new BinaryMetric(output(fields, name), number(fields, "threshold", 0.5));
      case "ctc" -> new CtcMetric(output(fields, name), integer(fields, "time_axis", 1),
          integer(fields, "class_axis", 2), integer(fields, "blank", 0), vocabulary(fields.get("vocabulary"), base));
      case "regression" -> new RegressionMetric(output(fields, name));
      case "language_model" -> new LanguageModelMetric(inputName(fields, "input", true),
          inputName(fields, "attention_mask", false), output(fields, name));
      default -> {
        Object className = fields.get("class");
        if (!(className instanceof String text)) {
          throw new ConfigException("class", "task user needs the class name of a dev.bitsweep.eval.metrics.Metric "
              + "implementation on the classpath");
        }
        Object options = fields.get("options");
        if (options != null && !(options instanceof Map)) {
          throw new ConfigException("options", "expected a map of the metric's options");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = options == null ? Map.of() : (Map<String, Object>) options;
        yield load(text, map);
      }
    };
  }

  /** A user metric by class name: public, with a public no-arg constructor, implementing {@link Metric}. */
  public static Metric<?> load(String className, Map<String, Object> options) {
    Class<?> type;
    try {
      type = Class.forName(className, true, Thread.currentThread().getContextClassLoader());
    } catch (ClassNotFoundException e) {
      throw new ConfigException("class", "metric class " + className + " is not on the classpath: put the jar that "
          + "holds it on the classpath (bin/bitsweep --classpath, or the job jar) and check the spelling");
    }
    if (!Metric.class.isAssignableFrom(type)) {
      throw new ConfigException("class", className + " does not implement " + Metric.class.getName());
    }
    try {
      Metric<?> metric = (Metric<?>) type.getConstructor().newInstance();
      metric.configure(options);
      return metric;
    } catch (NoSuchMethodException | IllegalAccessException e) {
      throw new ConfigException("class", className + " needs a public no-argument constructor");
    } catch (InstantiationException | InvocationTargetException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new ConfigException("class", "cannot create " + className + ": " + cause);
    }
  }

  private static String output(Map<String, Object> fields, String task) {
    Object output = fields.get("output");
    if (!(output instanceof String text) || text.isEmpty()) {
      throw new ConfigException("output", "task " + task + " needs the name of the model output it reads");
    }
    return text;
  }

  private static String inputName(Map<String, Object> fields, String key, boolean required) {
    Object value = fields.get(key);
    if (value == null && !required) {
      return null;
    }
    if (!(value instanceof String text) || text.isEmpty()) {
      throw new ConfigException(key, "task language_model needs the name of the model input that holds the "
          + (key.equals("input") ? "token ids" : "attention mask") + ", got " + value);
    }
    return text;
  }

  private static int integer(Map<String, Object> fields, String key, int fallback) {
    Object value = fields.get(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Integer || value instanceof Long)) {
      throw new ConfigException(key, "expected an integer but got " + value);
    }
    return ((Number) value).intValue();
  }

  private static double number(Map<String, Object> fields, String key, double fallback) {
    Object value = fields.get(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Number number)) {
      throw new ConfigException(key, "expected a number but got " + value);
    }
    return number.doubleValue();
  }

  private static List<String> vocabulary(Object value, Path base) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof String path)) {
      throw new ConfigException("vocabulary", "expected the path of a text file with one symbol per class index");
    }
    Path file = base.resolve(path);
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException("vocabulary", "cannot read " + file + " (" + e.getMessage() + "); it needs one symbol "
          + "per class index, the blank's line included");
    }
  }
}
