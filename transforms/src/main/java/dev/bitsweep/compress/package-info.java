/**
 * Post-training compression that needs nothing but the weights: the config records of {@code palettize},
 * {@code linear_quantize} and {@code prune} (each parses its YAML fields with {@link dev.bitsweep.compress.FieldReader}
 * and validates itself at construction), their algorithms ({@code Palettizer}, {@code LinearQuantizer},
 * {@code Pruner}), the compressed-weight types every method produces ({@code QuantizedWeights},
 * {@code PalettizedWeights}, {@code SparseWeights}, {@code DenseWeights}) and shared config vocabulary
 * ({@code CompressionConfig}, {@code ConfigException}, {@code NmRatio}).
 *
 * <p>This package depends on no other bitsweep package; methods that need calibration
 * statistics live in {@link dev.bitsweep.calibrate}, and which method a config belongs to is decided only in
 * {@link dev.bitsweep.methods.Methods}.
 */
package dev.bitsweep.compress;
