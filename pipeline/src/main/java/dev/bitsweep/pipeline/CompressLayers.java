package dev.bitsweep.pipeline;

import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.calibrate.OutputError;
import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.WeightError;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.methods.Compression;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.parallel.ThreadBudget;
import java.util.List;
import java.util.Objects;
import java.util.Map;
import org.apache.beam.sdk.io.Read;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * Compresses every planned (config, layer) task. Like an IO's read, it is rooted at the pipeline's start: its tasks
 * are the splits of a {@link LayerTaskSource}, so workers pull them one at a time, heaviest first. Workers read the
 * layer's weights from the model file, and the calibration statistics from the statistics cache, themselves. A task
 * that fails yields a compressed layer that says why; it never fails the job. Compressed weights go to the sweep's
 * {@link LayerStore}; the output elements carry their key, sizes and metrics only.
 *
 * <pre>{@code
 * CompressLayers.of(plan, tasks).withStatistics(calibration).withThreadsPerTask(2)
 * }</pre>
 */
public final class CompressLayers extends PTransform<PBegin, PCollection<KV<String, CompressedLayer>>> {
  private final SweepPlan plan;
  private final List<LayerTask> tasks;
  private final CalibrationPlan statistics;
  private final int threadsPerTask;

  private CompressLayers(SweepPlan plan, List<LayerTask> tasks, CalibrationPlan statistics, int threadsPerTask) {
    this.plan = Objects.requireNonNull(plan, "plan");
    this.tasks = List.copyOf(tasks);
    this.statistics = statistics;
    this.threadsPerTask = threadsPerTask;
  }

  /** Compresses {@code tasks} (from {@link SweepPlanner}) without statistics, one thread per task. */
  public static CompressLayers of(SweepPlan plan, List<LayerTask> tasks) {
    return new CompressLayers(plan, tasks, null, 1);
  }

  /**
   * Gives the tasks the input statistics of {@code calibration}'s layers, read from its cache, which must hold them
   * all by the time the tasks run (a separate job computes them first).
   */
  public CompressLayers withStatistics(CalibrationPlan calibration) {
    return new CompressLayers(plan, tasks, Objects.requireNonNull(calibration, "calibration"), threadsPerTask);
  }

  /** The threads one task may use (results do not depend on it). */
  public CompressLayers withThreadsPerTask(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads per task must be >= 1, got " + threads);
    }
    return new CompressLayers(plan, tasks, statistics, threads);
  }

  @Override
  public PCollection<KV<String, CompressedLayer>> expand(PBegin begin) {
    return begin
        .apply("LayerTasks", Read.from(new LayerTaskSource(tasks)))
        .apply("Compress", ParDo.of(new CompressFn(plan, statistics, threadsPerTask)));
  }

  /** Must have no side input: on Flink a side input would break the chain to the task source. */
  static final class CompressFn extends DoFn<LayerTask, KV<String, CompressedLayer>> {
    private final SweepPlan plan;
    private final String statisticsDir;
    /** Layer name to the name of the Hessian it reads (layers sharing an input share one). */
    private final Map<String, String> hessianOf;
    private final int threadsPerTask;

    CompressFn(SweepPlan plan, CalibrationPlan statistics, int threadsPerTask) {
      this.plan = plan;
      this.statisticsDir = statistics == null ? null : statistics.cacheDir();
      this.hessianOf = statistics == null ? Map.of() : statistics.hessianOf();
      this.threadsPerTask = threadsPerTask;
    }

    @ProcessElement
    public void process(@Element LayerTask task, OutputReceiver<KV<String, CompressedLayer>> out) {
      CompressedLayer reused = ResumeCache.compressed(plan, task);
      if (reused != null) {
        Progress.mark(plan.stagingDir(), ResumeCache.REUSED_COMPRESS, task.configId() + "--" + task.layer().name());
        Progress.mark(plan.stagingDir(), "compress", task.configId() + "--" + task.layer().name());
        out.output(KV.of(task.configId(), stored(reused)));
        return;
      }
      long start = System.nanoTime();
      CompressedLayer result;
      try {
        String hessian = hessianOf.get(task.layer().name());
        LayerStatistics layerStatistics = hessian == null ? null : WorkerCache.statistics(statisticsDir, hessian);
        WeightMatrix original = WeightReader.read(WorkerCache.model(plan.modelPath()), task.layer());
        Compression compression = ThreadBudget.call(threadsPerTask,
            () -> Methods.ALL.compress(task.config(), original, layerStatistics, "layer " + task.layer().name()));
        CompressedWeights weights = compression.weights();
        WeightMatrix decoded = weights.decompress();
        Double outputError = layerStatistics == null ? null
            : OutputError.of(original, decoded, layerStatistics.hessian());
        result = new CompressedLayer(task.configId(), task.layer(), weights,
            WeightError.snrDb(original, decoded), WeightError.sparsity(decoded), outputError, compression.percdampUsed(),
            seconds(start), null, task.fallback(), null);
      } catch (RuntimeException e) {
        result = new CompressedLayer(task.configId(), task.layer(), null, Double.NaN, Double.NaN, null, null, seconds(start),
            "layer " + task.layer().name() + ": " + e.getMessage(), task.fallback(), null);
      }
      ResumeCache.storeCompressed(plan, task, result);
      CompressedLayer element = stored(result);
      Progress.mark(plan.stagingDir(), "compress", task.configId() + "--" + task.layer().name());
      out.output(KV.of(task.configId(), element));
    }

    /** The layer as it travels on: its weights in the layer store, only their key in the element. */
    private CompressedLayer stored(CompressedLayer layer) {
      return layer.failed() ? layer : layer.stored(LayerStore.put(plan.stagingDir(), layer.weights()));
    }
  }

  static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
