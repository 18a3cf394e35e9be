package dev.bitsweep.compress;

import java.io.Serializable;
import java.util.Map;

/**
 * How to compress one layer: an immutable, validated description of one method with its fields. Each method's
 * config record parses its own YAML fields ({@code fromFields}, with {@link FieldReader}) and validates itself at
 * construction.
 * Field names are the project's one vocabulary: the same snake_case keys in the YAML spec, the manifest and the
 * Parquet columns.
 */
public interface CompressionConfig extends Serializable {

  /** The method name: {@code palettize}, {@code linear_quantize}, {@code prune}, ... */
  String method();

  /**
   * Every field of this config, including defaults, keyed by its snake_case name (insertion-ordered), starting with
   * {@code method}; the method's registered parser inverts it ({@code dev.bitsweep.methods.MethodRegistry#parse}).
   */
  Map<String, Object> fields();

  /** True when the method needs calibration statistics of the layer's inputs. */
  default boolean needsCalibration() {
    return false;
  }

  /**
   * Checks that this config can apply to a layer of {@code rows} output channels by {@code cols} columns
   * (canonical layout); throws a {@link ConfigException} naming the field otherwise. The caller adds the layer name.
   */
  default void validateFor(int rows, int cols) {}
}
