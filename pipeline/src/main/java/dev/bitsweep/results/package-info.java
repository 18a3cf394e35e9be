/**
 * The Parquet results tables' schemas and version ({@link dev.bitsweep.results.ResultSchemas}): what a dashboard
 * reads. A new column or table is declared here (and documented in the README's tables); its rows are built by
 * {@code dev.bitsweep.pipeline.ResultRows}. Depends on no Beam code.
 */
package dev.bitsweep.results;
