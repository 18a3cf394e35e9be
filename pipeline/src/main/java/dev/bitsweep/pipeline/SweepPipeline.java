package dev.bitsweep.pipeline;

import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.spec.SweepConfig;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * The sweep as Beam pipelines. With calibration data whose statistics are not cached yet, a statistics job runs
 * first and fills the statistics cache; the sweep job then compresses the planned (config, layer) tasks (reading
 * statistics from the cache), packages per config, evaluates and writes the results:
 *
 * <pre>
 * LayerTasks -> CompressLayers -+-> PackageModels -+-> EvaluatePackages -+-> WriteResults
 *               Configs --------+------------------+---------------------+
 * </pre>
 */
public final class SweepPipeline {
  private SweepPipeline() {}

  /** The statistics job: every calibration batch through the model, summed per Hessian into the statistics cache. */
  public static void buildStatistics(Pipeline pipeline, PlannedSweep sweep) {
    registerCoders(pipeline);
    pipeline.apply("CollectStatistics", CollectStatistics.of(sweep.plan(), sweep.calibration().orElseThrow()));
  }

  /** The sweep job with the default evaluation memory budget of each worker. */
  public static void build(Pipeline pipeline, PlannedSweep sweep, int threadsPerTask) {
    build(pipeline, sweep, threadsPerTask, 0);
  }

  /**
   * The sweep job; the statistics cache, when the sweep has a calibration pass, must be complete.
   * {@code evalMemoryBytes} bounds each worker's evaluation sessions (0: {@link EvalMemory#defaultBudgetBytes}).
   */
  public static void build(Pipeline pipeline, PlannedSweep sweep, int threadsPerTask, long evalMemoryBytes) {
    registerCoders(pipeline);
    SweepPlan plan = sweep.plan();
    PCollection<KV<String, SweepConfig>> configs = pipeline.apply("Configs",
        Create.of(sweep.configs().stream().map(c -> KV.of(c.configId(), c)).toList())
            .withCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(SweepConfig.class))));
    CompressLayers compress = CompressLayers.of(plan, sweep.tasks()).withThreadsPerTask(threadsPerTask);
    if (sweep.calibration().isPresent()) {
      compress = compress.withStatistics(sweep.calibration().get());
    }
    PCollection<KV<String, CompressedLayer>> compressed = pipeline.apply("CompressLayers", compress);
    PackageModels packageModels = PackageModels.of(plan);
    if (sweep.calibration().isPresent() && !sweep.calibration().get().activations().isEmpty()) {
      packageModels = packageModels.withActivationStatistics(sweep.calibration().get());
    }
    PCollection<KV<String, PackagedModel>> packages = KeyedPCollectionTuple
        .of(PackageModels.CONFIGS, configs)
        .and(PackageModels.LAYERS, compressed)
        .apply("PackageModels", packageModels);
    PCollection<KV<String, EvalSummary>> summaries = packages.apply("EvaluatePackages",
        EvaluatePackages.of(plan).withEvaluation(sweep.evaluation())
            .withOriginalOutputs(OriginalOutputCache.directory(sweep.out()))
            .withThreadsPerTask(threadsPerTask)
            .withEvalMemory(evalMemoryBytes));
    KeyedPCollectionTuple
        .of(WriteResults.CONFIGS, configs)
        .and(WriteResults.PACKAGES, packages)
        .and(WriteResults.SUMMARIES, summaries)
        .apply("WriteResults", WriteResults.of(plan).withEvalThreads(threadsPerTask)
            .withLayerOrder(sweep.inventory().layers().stream().map(Layer::name).toList()));
  }

  private static void registerCoders(Pipeline pipeline) {
    var registry = pipeline.getCoderRegistry();
    registry.registerCoderForClass(Layer.class, SerializableCoder.of(Layer.class));
    registry.registerCoderForClass(SweepConfig.class, SerializableCoder.of(SweepConfig.class));
    registry.registerCoderForClass(LayerStatistics.class, SerializableCoder.of(LayerStatistics.class));
    registry.registerCoderForClass(LayerTask.class, SerializableCoder.of(LayerTask.class));
    registry.registerCoderForClass(CompressedLayer.class, SerializableCoder.of(CompressedLayer.class));
    registry.registerCoderForClass(PackagedModel.class, SerializableCoder.of(PackagedModel.class));
    registry.registerCoderForClass(EvalTask.class, SerializableCoder.of(EvalTask.class));
    registry.registerCoderForClass(EvalPartial.class, SerializableCoder.of(EvalPartial.class));
    registry.registerCoderForClass(EvalSummary.class, SerializableCoder.of(EvalSummary.class));
  }
}
