/**
 * Methods that use calibration statistics of a layer's inputs: the Hessian H = Σ xᵀx ({@code HessianAccumulator},
 * {@code LayerStatistics}, {@code Hessians} for grouped convs, {@code HessianFile} for their streamed files), GPTQ and SparseGPT (Algorithm 1 of their papers) with
 * their config records, the round-to-nearest baseline on GPTQ's grid ({@code RoundToNearest}), Hessian-weighted
 * k-means importance ({@code SensitivityWeights}) and the output error tr(ΔW H ΔWᵀ) ({@code OutputError}).
 *
 * <p>Depends on {@link dev.bitsweep.compress} (configs, weight types), never the other way round. A new calibrated
 * method is its config record here (parsing and validating itself), its algorithm here, and one registration in
 * {@link dev.bitsweep.methods.Methods}.
 */
package dev.bitsweep.calibrate;
