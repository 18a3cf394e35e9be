package dev.bitsweep.methods;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.WeightMatrix;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * One compression method, everything the sweep needs to know about it: its name (the YAML {@code method} key), how
 * its config is parsed (the config record validates itself), the algorithm that compresses a layer, how long that
 * roughly takes, how a config is named in config ids, and which runs-table columns its config fills.
 *
 * @param name the YAML, manifest and Parquet {@code method} value
 * @param configType the config record
 * @param parser builds the config from its YAML fields (the map includes {@code method}); the inverse of
 *     {@link CompressionConfig#fields()}
 * @param compressor the algorithm
 * @param cost seconds of one core beyond the per-weight base every task pays (see {@link MethodRegistry#estimatedSeconds})
 * @param naming the parts of a config id after the method name, e.g. {@code 4bit} and {@code g128}
 * @param resultColumns the runs-table columns this method's config fills, each from the config field of the same name
 */
public record Method<C extends CompressionConfig>(
    String name,
    Class<C> configType,
    Function<Map<String, Object>, C> parser,
    Compressor<C> compressor,
    CostModel<C> cost,
    Naming<C> naming,
    List<ResultColumn> resultColumns) {

  /** Compresses one layer. */
  @FunctionalInterface
  public interface Compressor<C> {
    /**
     * @param hessian the layer's input Hessian when the config {@link CompressionConfig#needsCalibration() needs
     *     calibration}, else null
     * @param layer named in error messages
     */
    Compression compress(C config, WeightMatrix weights, double[] hessian, String layer);
  }

  /** The method's share of a task's estimated time, in seconds of one core (only ordering depends on it). */
  @FunctionalInterface
  public interface CostModel<C> {
    double seconds(C config, long weights, int rows, int cols);
  }

  /** Appends the config's distinguishing values to its id; values at their defaults are left out. */
  @FunctionalInterface
  public interface Naming<C> {
    void name(C config, ConfigName id);
  }

  public Method {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(configType, "configType");
    Objects.requireNonNull(parser, "parser");
    Objects.requireNonNull(compressor, "compressor");
    Objects.requireNonNull(cost, "cost");
    Objects.requireNonNull(naming, "naming");
    resultColumns = List.copyOf(resultColumns);
    if (!name.matches("[a-z][a-z0-9_]*")) {
      throw new IllegalArgumentException("method name '" + name + "' must be snake_case");
    }
  }

  C cast(CompressionConfig config) {
    if (!configType.isInstance(config)) {
      throw new IllegalArgumentException("method " + name + " expects a " + configType.getSimpleName() + ", got "
          + config.getClass().getSimpleName());
    }
    return configType.cast(config);
  }
}
