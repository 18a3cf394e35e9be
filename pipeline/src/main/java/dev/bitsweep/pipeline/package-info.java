/**
 * The sweep as Beam: planning, the pipeline's stages, and running and publishing a sweep.
 *
 * <ul>
 *   <li>Planning, no Beam: {@link dev.bitsweep.pipeline.SweepPlanner} reads the spec, model and data headers and
 *       computes the checked (config, layer) {@link dev.bitsweep.pipeline.LayerTask}s once, the calibration pass and
 *       the progress totals ({@link dev.bitsweep.pipeline.PlannedSweep}).</li>
 *   <li>Stages, each a composite PTransform named as a verb, taking its inputs as inputs (a PCollection, or a
 *       {@code KeyedPCollectionTuple} under the transform's own tags) and its constant configuration through
 *       {@code of(...)}/{@code withX(...)} validated at construction; DoFns stay thin and call the plain libraries
 *       of the transforms module: {@link dev.bitsweep.pipeline.CollectStatistics},
 *       {@link dev.bitsweep.pipeline.CompressLayers}, {@link dev.bitsweep.pipeline.PackageModels},
 *       {@link dev.bitsweep.pipeline.EvaluatePackages}, {@link dev.bitsweep.pipeline.WriteResults}, wired by
 *       {@link dev.bitsweep.pipeline.SweepPipeline}. A new stage goes here as one such transform plus one line in
 *       SweepPipeline; its elements are small Serializable records (register their coder there).</li>
 *   <li>One failure policy in every stage: what fails for one config becomes that config's row saying why (a
 *       failed {@link dev.bitsweep.pipeline.CompressedLayer}, {@link dev.bitsweep.pipeline.PackagedModel} or
 *       {@link dev.bitsweep.pipeline.EvalSummary}); only a broken job fails the job.</li>
 *   <li>Results: {@link dev.bitsweep.pipeline.ResultRows} builds the rows of the tables that
 *       {@link dev.bitsweep.results.ResultSchemas} defines; a new results table is a schema there, its rows here
 *       and one write in {@link dev.bitsweep.pipeline.WriteResults}, published by
 *       {@link dev.bitsweep.pipeline.Publisher}.</li>
 *   <li>Running: {@link dev.bitsweep.pipeline.SweepRunner} plans, runs the jobs (through
 *       {@link dev.bitsweep.cluster.BeamJob}), publishes and writes the report.</li>
 * </ul>
 */
package dev.bitsweep.pipeline;
