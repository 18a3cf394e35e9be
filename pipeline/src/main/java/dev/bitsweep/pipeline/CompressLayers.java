package dev.bitsweep.pipeline;

import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.calibrate.OutputError;
import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.Compressors;
import dev.bitsweep.compress.WeightError;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.spec.SweepConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;

/**
 * Fans layers x configs out and compresses each layer with each config that applies to it.
 * Workers read the layer's weights from the model file themselves.
 */
public final class CompressLayers extends PTransform<PCollection<Layer>, PCollection<KV<String, CompressedLayer>>> {
  private final SweepPlan plan;
  private final PCollection<SweepConfig> configs;
  private final PCollectionView<Map<String, LayerStatistics>> statistics;

  private CompressLayers(SweepPlan plan, PCollection<SweepConfig> configs,
      PCollectionView<Map<String, LayerStatistics>> statistics) {
    this.plan = plan;
    this.configs = configs;
    this.statistics = statistics;
  }

  /**
   * @param statistics each layer's calibration statistics (empty without calibration data): calibration methods
   *     use them, and every method's output error is measured with them
   */
  public static CompressLayers of(SweepPlan plan, PCollection<SweepConfig> configs,
      PCollectionView<Map<String, LayerStatistics>> statistics) {
    return new CompressLayers(plan, configs, statistics);
  }

  @Override
  public PCollection<KV<String, CompressedLayer>> expand(PCollection<Layer> layers) {
    PCollectionView<List<SweepConfig>> configList = configs.apply("ListConfigs", View.asList());
    return layers
        .apply("PairWithConfigs", ParDo.of(new PairWithConfigsFn(configList)).withSideInputs(configList))
        .apply("SpreadTasks", Reshuffle.viaRandomKey())
        .apply("Compress", ParDo.of(new CompressFn(plan, statistics)).withSideInputs(statistics));
  }

  static final class PairWithConfigsFn extends DoFn<Layer, LayerTask> {
    private final PCollectionView<List<SweepConfig>> configs;

    PairWithConfigsFn(PCollectionView<List<SweepConfig>> configs) {
      this.configs = configs;
    }

    @ProcessElement
    public void process(@Element Layer layer, OutputReceiver<LayerTask> out, ProcessContext context) {
      for (SweepConfig config : context.sideInput(configs)) {
        Optional<CompressionConfig> applied = config.configFor(layer);
        applied.ifPresent(c -> out.output(new LayerTask(config.configId(), layer, c)));
      }
    }
  }

  static final class CompressFn extends DoFn<LayerTask, KV<String, CompressedLayer>> {
    private final SweepPlan plan;
    private final PCollectionView<Map<String, LayerStatistics>> statistics;

    CompressFn(SweepPlan plan, PCollectionView<Map<String, LayerStatistics>> statistics) {
      this.plan = plan;
      this.statistics = statistics;
    }

    @ProcessElement
    public void process(@Element LayerTask task, OutputReceiver<KV<String, CompressedLayer>> out,
        ProcessContext context) {
      long start = System.nanoTime();
      CompressedLayer result;
      try {
        LayerStatistics layerStatistics = context.sideInput(statistics).get(task.layer().name());
        WeightMatrix original = WeightReader.read(WorkerCache.model(plan.modelPath()), task.layer());
        CompressedWeights weights =
            Compressors.compress(task.config(), original, layerStatistics, "layer " + task.layer().name());
        WeightMatrix decoded = weights.decompress();
        Double outputError = layerStatistics == null ? null
            : OutputError.of(original, decoded, layerStatistics.hessian());
        result = new CompressedLayer(task.configId(), task.layer(), weights,
            WeightError.snrDb(original, decoded), WeightError.sparsity(decoded), outputError, seconds(start), null);
      } catch (RuntimeException e) {
        result = new CompressedLayer(task.configId(), task.layer(), null, Double.NaN, Double.NaN, null, seconds(start),
            "layer " + task.layer().name() + ": " + e.getMessage());
      }
      Progress.mark(plan.stagingDir(), "compress", task.configId() + "--" + task.layer().name());
      out.output(KV.of(task.configId(), result));
    }
  }

  static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
