/**
 * Mixed-precision planning, no Beam: per-layer candidates with their measured sizes and predicted metric losses
 * ({@link dev.bitsweep.plan.LayerChoices}), the exact multiple-choice knapsack solver over them
 * ({@link dev.bitsweep.plan.MultipleChoiceKnapsack}), rank correlation of cheap proxies against measured deltas
 * ({@link dev.bitsweep.plan.RankCorrelation}), the size/metric Pareto frontier ({@link dev.bitsweep.plan.ParetoFrontier}),
 * and the emitters of a plan: a bitsweep spec that reproduces it ({@link dev.bitsweep.plan.PlanSpecWriter}) and
 * coremltools OptimizationConfig YAML files ({@link dev.bitsweep.plan.CoremlConfigWriter}).
 */
package dev.bitsweep.plan;
