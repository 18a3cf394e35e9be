/**
 * The budgeted mixed-precision search, as thin wiring around the sweep: {@link dev.bitsweep.search.SearchSpec} reads
 * a spec's {@code search:} section; {@link dev.bitsweep.search.SearchRunner} measures per-layer sensitivity as one
 * generated sweep (one config per (layer, candidate), only that layer compressed; cached in
 * {@link dev.bitsweep.search.SensitivityCache}), predicts and solves with the plain {@code dev.bitsweep.plan}
 * library, builds and evaluates every plan as a sweep of its own emitted spec, and corrects the budget until a
 * measured plan meets it; {@link dev.bitsweep.search.SearchTables} writes the {@code sensitivity/}, {@code plans/}
 * and {@code frontier/} tables ({@link dev.bitsweep.results.SearchSchemas}).
 */
package dev.bitsweep.search;
