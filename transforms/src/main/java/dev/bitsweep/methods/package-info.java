/**
 * The registry of compression methods ({@link dev.bitsweep.methods.Methods#ALL}): for each method its name, config
 * parser, compressor, cost model, config-id naming and runs-table columns ({@link dev.bitsweep.methods.Method}).
 * Everything that dispatches on a method reads it: the spec parser, the layer compressor, the task cost, config ids
 * and the Parquet result columns. It is the only package that sees both {@code compress} and {@code calibrate}.
 *
 * <p>Where things go: a new method is its config record and algorithm (in {@code compress} or {@code calibrate}) and
 * one {@code .with(new Method<>(...))} line in {@code Methods}; a new config field is a record component plus its
 * key in the record's {@code FIELD_NAMES}, {@code fields()} and {@code fromFields}; a new runs column is a
 * {@link dev.bitsweep.methods.ResultColumn} in the catalog, named by the methods that fill it (and a README row).
 */
package dev.bitsweep.methods;
