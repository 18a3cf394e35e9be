package dev.bitsweep.pipeline;

import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.calibrate.OutputError;
import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.WeightError;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.methods.Compression;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.parallel.ThreadBudget;
import dev.bitsweep.spec.SweepConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.beam.sdk.io.Read;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * Compresses every layer with every config that applies to it. The layer tasks come from a {@link LayerTaskSource},
 * so workers pull them one at a time; workers read the layer's weights from the model file, and the calibration
 * statistics from the statistics cache, themselves.
 */
public final class CompressLayers extends PTransform<PBegin, PCollection<KV<String, CompressedLayer>>> {
  private final SweepPlan plan;
  private final List<LayerTask> tasks;
  private final CalibrationPlan calibration;

  private CompressLayers(SweepPlan plan, List<LayerTask> tasks, CalibrationPlan calibration) {
    this.plan = plan;
    this.tasks = List.copyOf(tasks);
    this.calibration = calibration;
  }

  /**
   * @param calibration the sweep's statistics pass, whose cache must hold every layer's statistics by the time the
   *     tasks run (a separate job computes them first); null without calibration data
   */
  public static CompressLayers of(SweepPlan plan, List<Layer> layers, List<SweepConfig> configs,
      CalibrationPlan calibration) {
    return new CompressLayers(plan, tasks(layers, configs), calibration);
  }

  /** Every (config, layer) pair the config applies to, config by config. */
  public static List<LayerTask> tasks(List<Layer> layers, List<SweepConfig> configs) {
    List<LayerTask> tasks = new ArrayList<>();
    for (SweepConfig config : configs) {
      for (Layer layer : layers) {
        Optional<CompressionConfig> applied = config.configFor(layer);
        applied.ifPresent(c -> tasks.add(new LayerTask(config.configId(), layer, c)));
      }
    }
    return tasks;
  }

  @Override
  public PCollection<KV<String, CompressedLayer>> expand(PBegin begin) {
    return begin
        .apply("LayerTasks", Read.from(new LayerTaskSource(tasks)))
        .apply("Compress", ParDo.of(new CompressFn(plan, calibration)));
  }

  /** Must have no side input: on Flink a side input would break the chain to the task source. */
  static final class CompressFn extends DoFn<LayerTask, KV<String, CompressedLayer>> {
    private final SweepPlan plan;
    private final String statisticsDir;
    private final Set<String> layersWithStatistics;

    CompressFn(SweepPlan plan, CalibrationPlan calibration) {
      this.plan = plan;
      this.statisticsDir = calibration == null ? null : calibration.cacheDir();
      this.layersWithStatistics = calibration == null ? Set.of()
          : calibration.layers().stream().map(Layer::name).collect(Collectors.toUnmodifiableSet());
    }

    @ProcessElement
    public void process(@Element LayerTask task, OutputReceiver<KV<String, CompressedLayer>> out) {
      long start = System.nanoTime();
      CompressedLayer result;
      try {
        LayerStatistics layerStatistics = layersWithStatistics.contains(task.layer().name())
            ? WorkerCache.statistics(statisticsDir, task.layer().name()) : null;
        WeightMatrix original = WeightReader.read(WorkerCache.model(plan.modelPath()), task.layer());
        Compression compression = ThreadBudget.call(plan.threadsPerTask(),
            () -> Methods.ALL.compress(task.config(), original, layerStatistics, "layer " + task.layer().name()));
        CompressedWeights weights = compression.weights();
        WeightMatrix decoded = weights.decompress();
        Double outputError = layerStatistics == null ? null
            : OutputError.of(original, decoded, layerStatistics.hessian());
        result = new CompressedLayer(task.configId(), task.layer(), weights,
            WeightError.snrDb(original, decoded), WeightError.sparsity(decoded), outputError, compression.percdampUsed(),
            seconds(start), null);
      } catch (RuntimeException e) {
        result = new CompressedLayer(task.configId(), task.layer(), null, Double.NaN, Double.NaN, null, null, seconds(start),
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
