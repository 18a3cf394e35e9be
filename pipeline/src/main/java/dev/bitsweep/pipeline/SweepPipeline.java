package dev.bitsweep.pipeline;

import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.results.WriteResults;
import dev.bitsweep.spec.SweepConfig;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;

/** The sweep as a Beam pipeline: compress layers x configs, package per config, evaluate, write results. */
public final class SweepPipeline {
  private SweepPipeline() {}

  /** @param calibration the statistics pass, or null when the sweep names no calibration data */
  public static void build(Pipeline pipeline, SweepPlan plan, CalibrationPlan calibration, List<Layer> layers,
      List<SweepConfig> configs) {
    registerCoders(pipeline);
    PCollection<SweepConfig> configCollection = pipeline.apply("Configs", Create.of(configs));
    PCollection<Layer> layerCollection = pipeline.apply("Layers", Create.of(layers));
    PCollection<KV<String, LayerStatistics>> statistics = calibration == null
        ? pipeline.apply("NoStatistics", Create.empty(CollectStatistics.coder()))
        : pipeline.begin().apply("CollectStatistics", CollectStatistics.of(plan, calibration));
    PCollectionView<Map<String, LayerStatistics>> statisticsByLayer =
        statistics.apply("StatisticsByLayer", View.asMap());
    PCollection<KV<String, CompressedLayer>> compressed =
        layerCollection.apply("CompressLayers", CompressLayers.of(plan, configCollection, statisticsByLayer));
    PCollection<KV<String, PackagedModel>> packages =
        compressed.apply("PackageModels", PackageModels.of(plan, configCollection));
    PCollection<KV<String, EvalSummary>> summaries = packages.apply("EvaluatePackages", EvaluatePackages.of(plan));
    pipeline.begin().apply("WriteResults", WriteResults.of(plan, configCollection, packages, summaries));
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
