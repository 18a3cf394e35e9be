package dev.bitsweep.pipeline;

import dev.bitsweep.activations.ActivationHistogram;
import dev.bitsweep.activations.ActivationRecorder;
import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.stats.ActivationCapture;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Map;
import java.util.TreeMap;
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
 * The calibration statistics of every layer, computed once per (model, calibration data, samples): calibration
 * batches fan out, each worker runs the model on its batch capturing the layers' input activations and emits one
 * partial per layer, and the partials are summed per layer (float64) and written to the statistics cache, where the
 * compression tasks read them. When a config quantizes activations, the same batches also record the histogram of
 * every activation tensor it quantizes, summed exactly over all batches into one cache file beside the layers'.
 * When the cache already holds everything, the sweep does not run this at all. The model is fed as the spec's input
 * layout says; with state inputs a calibration batch is whole sequences, run frame by frame carrying the state.
 */
public final class CollectStatistics extends PTransform<PBegin, PCollection<KV<String, LayerStatistics>>> {
  /** Calibration batches run through ONNX Runtime. */
  public static final String BATCHES_COUNTER = "calibration_batches";

  private final SweepPlan plan;
  private final CalibrationPlan calibration;

  private CollectStatistics(SweepPlan plan, CalibrationPlan calibration) {
    this.plan = Objects.requireNonNull(plan, "plan");
    this.calibration = Objects.requireNonNull(calibration, "calibration");
  }

  public static CollectStatistics of(SweepPlan plan, CalibrationPlan calibration) {
    return new CollectStatistics(plan, calibration);
  }

  static Coder<KV<String, LayerStatistics>> coder() {
    return KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(LayerStatistics.class));
  }

  @Override
  public PCollection<KV<String, LayerStatistics>> expand(PBegin begin) {
    List<Integer> batches = IntStream.range(0, calibration.batchCount()).boxed().toList();
    if (!calibration.activations().isEmpty()) {
      begin.apply("ActivationBatches", Create.of(batches))
          .apply("SpreadActivationBatches", Reshuffle.viaRandomKey())
          .apply("RecordActivations", ParDo.of(new RecordActivationsFn(plan, calibration)))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(ActivationHistogram.class)))
          .apply("SumHistograms", Combine.globally(new SumHistogramsFn()))
          .apply("WriteActivationCache", ParDo.of(new WriteActivationsFn(calibration)));
    }
    if (calibration.layers().isEmpty()) {
      return begin.apply("NoLayers", Create.empty(coder()));
    }
    return begin.apply("CalibrationBatches", Create.of(batches))
        .apply("SpreadBatches", Reshuffle.viaRandomKey())
        .apply("CaptureActivations", ParDo.of(new CaptureBatchFn(plan, calibration)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(BatchStatistics.class)))
        .apply("SumPerLayer", Combine.perKey(new SumStatisticsFn()))
        .setCoder(coder())
        .apply("WriteCache", ParDo.of(new WriteCacheFn(calibration.cacheDir())))
        .setCoder(coder());
  }

  /**
   * Runs the original model on one calibration batch and emits the partial histogram of every activation tensor
   * that a config quantizes (float tensors only).
   */
  static final class RecordActivationsFn extends DoFn<Integer, KV<String, ActivationHistogram>> {
    private final SweepPlan plan;
    private final CalibrationPlan calibration;
    private final Counter batches = Metrics.counter(CollectStatistics.class, BATCHES_COUNTER);
    private transient ActivationRecorder recorder;

    RecordActivationsFn(SweepPlan plan, CalibrationPlan calibration) {
      this.plan = plan;
      this.calibration = calibration;
    }

    @ProcessElement
    public void process(@Element Integer batch, OutputReceiver<KV<String, ActivationHistogram>> out) {
      if (recorder == null) {
        recorder = ActivationRecorder.open(WorkerCache.model(plan.modelPath()), calibration.activations(),
            plan.modelInputs());
      }
      Dataset data = WorkerCache.dataset(calibration.dataPath(), plan.modelInputs(), false);
      recorder.run(data, calibration.batchStart(batch), calibration.batchEnd(batch))
          .forEach((tensor, histogram) -> out.output(KV.of(tensor, histogram)));
      if (calibration.layers().isEmpty()) {
        batches.inc();
        Progress.mark(plan.stagingDir(), "calibrate", "batch-" + batch);
      }
    }

    @Teardown
    public void close() {
      if (recorder != null) {
        recorder.close();
        recorder = null;
      }
    }
  }

  /**
   * Sums the partial histograms per tensor. {@link ActivationHistogram#plus} is exact, commutative and associative,
   * so the sums are the same bits whatever order and grouping the runner delivers the batches in.
   */
  static final class SumHistogramsFn
      extends Combine.CombineFn<KV<String, ActivationHistogram>, TreeMap<String, ActivationHistogram>,
          TreeMap<String, ActivationHistogram>> {
    @Override
    public TreeMap<String, ActivationHistogram> createAccumulator() {
      return new TreeMap<>();
    }

    @Override
    public TreeMap<String, ActivationHistogram> addInput(TreeMap<String, ActivationHistogram> sums,
        KV<String, ActivationHistogram> partial) {
      sums.merge(partial.getKey(), partial.getValue(), ActivationHistogram::plus);
      return sums;
    }

    @Override
    public TreeMap<String, ActivationHistogram> mergeAccumulators(
        Iterable<TreeMap<String, ActivationHistogram>> accumulators) {
      TreeMap<String, ActivationHistogram> merged = new TreeMap<>();
      accumulators.forEach(a -> a.forEach((tensor, h) -> merged.merge(tensor, h, ActivationHistogram::plus)));
      return merged;
    }

    @Override
    public TreeMap<String, ActivationHistogram> extractOutput(TreeMap<String, ActivationHistogram> sums) {
      return sums;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Coder<TreeMap<String, ActivationHistogram>> getAccumulatorCoder(CoderRegistry registry,
        Coder<KV<String, ActivationHistogram>> inputCoder) {
      return SerializableCoder.of((Class<TreeMap<String, ActivationHistogram>>) (Class<?>) TreeMap.class);
    }

    @Override
    @SuppressWarnings("unchecked")
    public Coder<TreeMap<String, ActivationHistogram>> getDefaultOutputCoder(CoderRegistry registry,
        Coder<KV<String, ActivationHistogram>> inputCoder) {
      return SerializableCoder.of((Class<TreeMap<String, ActivationHistogram>>) (Class<?>) TreeMap.class);
    }
  }

  static final class WriteActivationsFn extends DoFn<TreeMap<String, ActivationHistogram>, Void> {
    private final CalibrationPlan calibration;

    WriteActivationsFn(CalibrationPlan calibration) {
      this.calibration = calibration;
    }

    @ProcessElement
    public void process(@Element TreeMap<String, ActivationHistogram> histograms) {
      StatisticsCache.writeActivations(Path.of(calibration.cacheDir()), calibration.activations(), histograms);
    }
  }

  /** Runs the model on one calibration batch and emits every layer's partial statistics. */
  static final class CaptureBatchFn extends DoFn<Integer, KV<String, BatchStatistics>> {
    private final SweepPlan plan;
    private final CalibrationPlan calibration;
    private final Counter batches = Metrics.counter(CollectStatistics.class, BATCHES_COUNTER);
    private transient ActivationCapture capture;

    CaptureBatchFn(SweepPlan plan, CalibrationPlan calibration) {
      this.plan = plan;
      this.calibration = calibration;
    }

    @ProcessElement
    public void process(@Element Integer batch, OutputReceiver<KV<String, BatchStatistics>> out) {
      if (capture == null) {
        capture = ActivationCapture.open(WorkerCache.model(plan.modelPath()), calibration.layers(),
            calibration.capture(), plan.modelInputs());
      }
      Dataset data = WorkerCache.dataset(calibration.dataPath(), plan.modelInputs(), false);
      Map<String, LayerStatistics> partials =
          capture.run(data, calibration.batchStart(batch), calibration.batchEnd(batch));
      partials.forEach((layer, partial) -> out.output(KV.of(layer, new BatchStatistics(batch, partial))));
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

  /** One calibration batch's statistics of one layer. */
  record BatchStatistics(int batch, LayerStatistics statistics) implements Serializable {}

  /**
   * Sums a layer's partials in float64 along a fixed binary tree over the batch indexes (batches 2k and 2k+1 first,
   * then pairs of pairs, ...), so the total is bit-identical whatever order and grouping the runner delivers the
   * partials in, while holding only O(log batches) partial sums at a time.
   */
  static final class SumStatisticsFn extends Combine.CombineFn<BatchStatistics, SumStatisticsFn.Sum, LayerStatistics> {

    /** Completed subtrees, keyed by their first batch; a subtree at level l covers 2^l batches. */
    static final class Sum implements Serializable {
      private static final long serialVersionUID = 1L;
      final TreeMap<Integer, Node> nodes = new TreeMap<>();

      void add(int level, int index, HessianAccumulator total) {
        while (true) {
          int siblingStart = (index ^ 1) << level;
          Node sibling = nodes.get(siblingStart);
          if (sibling == null || sibling.level != level) {
            break;
          }
          nodes.remove(siblingStart);
          // left + right; IEEE addition of two operands is commutative, so only the tree shape matters
          total = total.merge(sibling.total);
          level++;
          index >>= 1;
        }
        nodes.put(index << level, new Node(level, total));
      }
    }

    record Node(int level, HessianAccumulator total) implements Serializable {}

    @Override
    public Sum createAccumulator() {
      return new Sum();
    }

    @Override
    public Sum addInput(Sum sum, BatchStatistics partial) {
      LayerStatistics statistics = partial.statistics();
      HessianAccumulator leaf = new HessianAccumulator(statistics.layer(), statistics.dim(), statistics.groups());
      leaf.add(statistics);
      sum.add(0, partial.batch(), leaf);
      return sum;
    }

    @Override
    public Sum mergeAccumulators(Iterable<Sum> sums) {
      Sum merged = new Sum();
      for (Sum sum : sums) {
        sum.nodes.forEach((start, node) -> merged.add(node.level(), start >> node.level(), node.total()));
      }
      return merged;
    }

    /** The remaining subtrees are the binary decomposition of the batch range: summed in batch order. */
    @Override
    public LayerStatistics extractOutput(Sum sum) {
      HessianAccumulator total = null;
      for (Node node : sum.nodes.values()) {
        total = total == null ? node.total() : total.merge(node.total());
      }
      return total.toStatistics();
    }

    @Override
    public Coder<Sum> getAccumulatorCoder(CoderRegistry registry, Coder<BatchStatistics> inputCoder) {
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
}
