package dev.bitsweep.pipeline;

import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.results.WriteResults;
import dev.bitsweep.spec.SweepConfig;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * The sweep as Beam pipelines. With calibration data whose statistics are not cached yet, a statistics job runs
 * first and fills the statistics cache; the sweep job then compresses layers x configs (reading statistics from the
 * cache), packages per config, evaluates and writes the results.
 */
public final class SweepPipeline {
  private SweepPipeline() {}

  /** The statistics job: every calibration batch through the model, summed per layer into the statistics cache. */
  public static void buildStatistics(Pipeline pipeline, SweepPlan plan, CalibrationPlan calibration) {
    registerCoders(pipeline);
    pipeline.begin().apply("CollectStatistics", CollectStatistics.of(plan, calibration));
  }

  /** @param calibration the statistics pass (its cache complete), or null when the sweep names no calibration data */
  public static void build(Pipeline pipeline, SweepPlan plan, CalibrationPlan calibration, List<Layer> layers,
      List<SweepConfig> configs) {
    registerCoders(pipeline);
    PCollection<SweepConfig> configCollection = pipeline.apply("Configs", Create.of(configs));
    PCollection<KV<String, CompressedLayer>> compressed =
        pipeline.begin().apply("CompressLayers", CompressLayers.of(plan, layers, configs, calibration));
    PCollection<KV<String, PackagedModel>> packages =
        compressed.apply("PackageModels", PackageModels.of(plan, configCollection));
    PCollection<KV<String, EvalSummary>> summaries = packages.apply("EvaluatePackages", EvaluatePackages.of(plan));
    pipeline.begin().apply("WriteResults", WriteResults.of(plan, configCollection, packages, summaries)
        .withLayerOrder(layers.stream().map(Layer::name).toList()));
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
