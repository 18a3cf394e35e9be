package dev.bitsweep.pipeline;

import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.stats.ActivationCapture;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * The calibration statistics of every layer, computed once per sweep: calibration batches fan out, each worker runs
 * the model on its batch capturing the layers' input activations and emits one partial per layer, and the partials
 * are summed per layer (float64). The sums go to the on-disk cache; when the cache already holds every layer, the
 * statistics are read from it and the model is not run at all.
 */
public final class CollectStatistics extends PTransform<PBegin, PCollection<KV<String, LayerStatistics>>> {
  /** Calibration batches run through ONNX Runtime: 0 when the statistics came from the cache. */
  public static final String BATCHES_COUNTER = "calibration_batches";

  private final SweepPlan plan;
  private final CalibrationPlan calibration;

  private CollectStatistics(SweepPlan plan, CalibrationPlan calibration) {
    this.plan = plan;
    this.calibration = calibration;
  }

  public static CollectStatistics of(SweepPlan plan, CalibrationPlan calibration) {
    return new CollectStatistics(plan, calibration);
  }

  static Coder<KV<String, LayerStatistics>> coder() {
    return KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(LayerStatistics.class));
  }

  @Override
  public PCollection<KV<String, LayerStatistics>> expand(PBegin begin) {
    if (calibration.cached()) {
      List<String> names = calibration.layers().stream().map(l -> l.name()).toList();
      return begin.apply("CachedLayers", Create.of(names))
          .apply("ReadCache", ParDo.of(new ReadCachedFn(calibration.cacheDir())))
          .setCoder(coder());
    }
    List<Integer> batches = IntStream.range(0, calibration.batchCount()).boxed().toList();
    return begin.apply("CalibrationBatches", Create.of(batches))
        .apply("SpreadBatches", Reshuffle.viaRandomKey())
        .apply("CaptureActivations", ParDo.of(new CaptureBatchFn(plan, calibration)))
        .setCoder(coder())
        .apply("SumPerLayer", Combine.perKey(new SumStatisticsFn()))
        .setCoder(coder())
        .apply("WriteCache", ParDo.of(new WriteCacheFn(calibration.cacheDir())))
        .setCoder(coder());
  }

  /** Runs the model on one calibration batch and emits every layer's partial statistics. */
  static final class CaptureBatchFn extends DoFn<Integer, KV<String, LayerStatistics>> {
    private final SweepPlan plan;
    private final CalibrationPlan calibration;
    private final Counter batches = Metrics.counter(CollectStatistics.class, BATCHES_COUNTER);
    private transient ActivationCapture capture;

    CaptureBatchFn(SweepPlan plan, CalibrationPlan calibration) {
      this.plan = plan;
      this.calibration = calibration;
    }

    @ProcessElement
    public void process(@Element Integer batch, OutputReceiver<KV<String, LayerStatistics>> out) {
      if (capture == null) {
        capture = ActivationCapture.open(WorkerCache.model(plan.modelPath()), calibration.layers(),
            calibration.capture());
      }
      Dataset data = WorkerCache.dataset(calibration.dataPath(), plan.modelInputs(), false);
      Map<String, LayerStatistics> partials =
          capture.run(data, calibration.batchStart(batch), calibration.batchEnd(batch));
      partials.forEach((layer, partial) -> out.output(KV.of(layer, partial)));
      batches.inc();
      Progress.mark(plan.stagingDir(), "calibrate", "batch-" + batch);
    }

    @Teardown
    public void close() {
      if (capture != null) {
        capture.close();
        capture = null;
      }
    }
  }

  /** Sums a layer's partials in float64; the accumulator starts empty because its shape comes with the first one. */
  static final class SumStatisticsFn extends Combine.CombineFn<LayerStatistics, SumStatisticsFn.Sum, LayerStatistics> {

    static final class Sum implements Serializable {
      private static final long serialVersionUID = 1L;
      HessianAccumulator total;

      void add(LayerStatistics partial) {
        if (total == null) {
          total = new HessianAccumulator(partial.layer(), partial.dim(), partial.groups());
        }
        total.add(partial);
      }
    }

    @Override
    public Sum createAccumulator() {
      return new Sum();
    }

    @Override
    public Sum addInput(Sum sum, LayerStatistics partial) {
      sum.add(partial);
      return sum;
    }

    @Override
    public Sum mergeAccumulators(Iterable<Sum> sums) {
      Sum merged = new Sum();
      for (Sum sum : sums) {
        if (sum.total != null) {
          merged.total = merged.total == null ? sum.total : merged.total.merge(sum.total);
        }
      }
      return merged;
    }

    @Override
    public LayerStatistics extractOutput(Sum sum) {
      return sum.total.toStatistics();
    }

    @Override
    public Coder<Sum> getAccumulatorCoder(CoderRegistry registry, Coder<LayerStatistics> inputCoder) {
      return SerializableCoder.of(Sum.class);
    }
  }

  static final class WriteCacheFn extends DoFn<KV<String, LayerStatistics>, KV<String, LayerStatistics>> {
    private final String cacheDir;

    WriteCacheFn(String cacheDir) {
      this.cacheDir = cacheDir;
    }

    @ProcessElement
    public void process(@Element KV<String, LayerStatistics> statistics, OutputReceiver<KV<String, LayerStatistics>> out) {
      StatisticsCache.write(Path.of(cacheDir), statistics.getValue());
      out.output(statistics);
    }
  }

  static final class ReadCachedFn extends DoFn<String, KV<String, LayerStatistics>> {
    private final String cacheDir;

    ReadCachedFn(String cacheDir) {
      this.cacheDir = cacheDir;
    }

    @ProcessElement
    public void process(@Element String layer, OutputReceiver<KV<String, LayerStatistics>> out) {
      out.output(KV.of(layer, StatisticsCache.read(Path.of(cacheDir), layer)));
    }
  }
}
