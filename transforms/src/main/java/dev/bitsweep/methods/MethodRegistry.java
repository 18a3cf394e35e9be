package dev.bitsweep.methods;

import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.compress.Choices;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.compress.FieldReader;
import dev.bitsweep.compress.WeightMatrix;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The compression methods by name, and everything that dispatches on a method: parsing a config, compressing a
 * layer, estimating a task's time, naming a config and filling the runs-table columns. Immutable;
 * {@link Methods#ALL} is the product's registry, {@link #with} builds a larger one.
 */
public final class MethodRegistry {
  /** Seconds of one core per weight every task pays (reading, checking and encoding the layer). */
  static final double SECONDS_PER_WEIGHT = 1e-7;

  private final Map<String, Method<?>> methods;

  private MethodRegistry(Map<String, Method<?>> methods) {
    this.methods = Collections.unmodifiableMap(methods);
  }

  public static MethodRegistry empty() {
    return new MethodRegistry(new LinkedHashMap<>());
  }

  /** This registry plus {@code method}; a name is registered once, a result column has one type. */
  public MethodRegistry with(Method<?> method) {
    if (methods.containsKey(method.name())) {
      throw new IllegalArgumentException("method " + method.name() + " is registered twice");
    }
    Map<String, ResultColumn> columns = new LinkedHashMap<>();
    for (Method<?> m : methods.values()) {
      m.resultColumns().forEach(c -> columns.put(c.name(), c));
    }
    for (ResultColumn column : method.resultColumns()) {
      ResultColumn known = columns.get(column.name());
      if (known != null && known.type() != column.type()) {
        throw new IllegalArgumentException("method " + method.name() + " declares column " + column.name() + " as "
            + column.type() + " but it is " + known.type());
      }
    }
    Map<String, Method<?>> next = new LinkedHashMap<>(methods);
    next.put(method.name(), method);
    return new MethodRegistry(next);
  }

  public List<String> names() {
    return List.copyOf(methods.keySet());
  }

  /** The method of {@code config}. */
  public Method<?> of(CompressionConfig config) {
    Method<?> method = methods.get(config.method());
    if (method == null) {
      throw new IllegalArgumentException("method " + config.method() + " is not registered; registered are " + names());
    }
    return method;
  }

  /**
   * Builds a config from its YAML-like fields; the key {@code method} selects the method. The inverse of
   * {@link CompressionConfig#fields()}: {@code parse(c.fields()).equals(c)}.
   */
  public CompressionConfig parse(Map<String, Object> fields) {
    Object name = fields.get("method");
    if (name == null) {
      throw new ConfigException("method", "is required; expected one of " + names());
    }
    if (!(name instanceof String text)) {
      throw new ConfigException("method", "expected one of " + names() + " but got " + FieldReader.describe(name));
    }
    Method<?> method = methods.get(text);
    if (method == null) {
      throw new ConfigException("method", "unknown method '" + text + "'; expected one of " + names()
          + Choices.suggestion(text, names()));
    }
    return method.parser().apply(fields);
  }

  /**
   * Compresses one layer. Configs that {@link CompressionConfig#needsCalibration() need calibration} get the
   * layer's input Hessian from {@code statistics}; others ignore the statistics.
   *
   * @param statistics the layer's calibration statistics, or null when the sweep has none
   * @param layer named in error messages
   */
  public Compression compress(CompressionConfig config, WeightMatrix weights, LayerStatistics statistics,
      String layer) {
    double[] hessian = null;
    if (config.needsCalibration()) {
      if (statistics == null) {
        throw new IllegalArgumentException(layer + ": method " + config.method() + " needs calibration statistics "
            + "of the layer's inputs; name calibration_data in the sweep spec");
      }
      hessian = statistics.hessian();
    }
    return compressWith(of(config), config, weights, hessian, layer);
  }

  /** Compresses one layer with a config that needs no calibration. */
  public Compression compress(CompressionConfig config, WeightMatrix weights) {
    return compress(config, weights, null, "layer");
  }

  private static <C extends CompressionConfig> Compression compressWith(Method<C> method, CompressionConfig config,
      WeightMatrix weights, double[] hessian, String layer) {
    return method.compressor().compress(method.cast(config), weights, hessian, layer);
  }

  /**
   * A rough estimate of a task's time in seconds of one core: a per-weight base plus the method's cost model. Used
   * only to start heavy tasks first; within 3x of the measured time is enough.
   */
  public double estimatedSeconds(CompressionConfig config, long weights, int rows, int cols) {
    return weights * SECONDS_PER_WEIGHT + costOf(of(config), config, weights, rows, cols);
  }

  private static <C extends CompressionConfig> double costOf(Method<C> method, CompressionConfig config, long weights,
      int rows, int cols) {
    return method.cost().seconds(method.cast(config), weights, rows, cols);
  }

  /** The readable id part of a config, e.g. {@code gptq-4bit-g128}. */
  public String name(CompressionConfig config) {
    return nameOf(of(config), config);
  }

  private static <C extends CompressionConfig> String nameOf(Method<C> method, CompressionConfig config) {
    ConfigName id = new ConfigName(method.name());
    method.naming().name(method.cast(config), id);
    return id.toString();
  }

  /** The config columns of the runs table: the catalog's columns some method fills, in catalog order, then others. */
  public List<ResultColumn> resultColumns() {
    List<ResultColumn> declared = new ArrayList<>();
    methods.values().forEach(m -> m.resultColumns().stream().filter(c -> !declared.contains(c)).forEach(declared::add));
    List<ResultColumn> ordered = new ArrayList<>(ResultColumn.CATALOG);
    ordered.retainAll(declared);
    declared.stream().filter(c -> !ordered.contains(c)).forEach(ordered::add);
    return ordered;
  }

  /** The values of {@code config} for its method's result columns, by column name (null values included). */
  public Map<String, Object> resultValues(CompressionConfig config) {
    Map<String, Object> fields = config.fields();
    Map<String, Object> values = new LinkedHashMap<>();
    for (ResultColumn column : of(config).resultColumns()) {
      values.put(column.name(), column.value(fields.get(column.name())));
    }
    return values;
  }
}
