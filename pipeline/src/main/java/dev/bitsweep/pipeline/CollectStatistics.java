package dev.bitsweep.pipeline;

import dev.bitsweep.activations.ActivationHistogram;
import dev.bitsweep.activations.ActivationRecorder;
import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.stats.ActivationCapture;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * The calibration statistics of every layer, computed once per (model, calibration data, samples): calibration
 * batches fan out, each worker runs the model on its batches capturing the layers' input activations and sums them
 * per layer within its bundle, writes those partial sums to the statistics store ({@link StatisticsCache}) and emits
 * only their paths; per layer, the paths are gathered and the partials summed there (float64) into the statistics
 * cache, where the compression tasks read them. A Hessian (66 MB at an im2col dimension of 2880) never travels through
 * a shuffle. Both sums follow one fixed binary tree over the batch indexes ({@link BatchOrderTree}), so the result
 * is bit-identical on every runner, parallelism and bundling. When the cache already holds every layer, the sweep
 * does not run this at all. When a config quantizes activations, the same batches also record the histogram of
 * every activation tensor it quantizes, summed exactly over all batches into one cache file beside the layers'.
 */
public final class CollectStatistics extends PTransform<PBegin, PCollection<String>> {
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

  /** The names of the layers whose statistics are now in the cache. */
  @Override
  public PCollection<String> expand(PBegin begin) {
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
      return begin.apply("NoLayers", Create.empty(StringUtf8Coder.of()));
    }
    return begin.apply("CalibrationBatches", Create.of(batches))
        .apply("SpreadBatches", Reshuffle.viaRandomKey())
        .apply("CaptureActivations", ParDo.of(new CaptureBatchFn(plan, calibration)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(PartialRef.class)))
        .apply("GatherPartials", GroupByKey.create())
        .apply("SumPerLayer", ParDo.of(new SumPartialsFn(calibration.cacheDir())))
        .setCoder(StringUtf8Coder.of());
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
        recorder = ActivationRecorder.open(WorkerCache.model(plan.modelPath()), calibration.activations());
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

  /** A partial sum of one layer over the batch subtree (level, start), in the statistics store at {@code path}. */
  record PartialRef(int level, int start, String path) implements Serializable {}

  /**
   * Runs the model on each calibration batch of its bundle, sums the batches per layer along the batch tree, and at
   * the end of the bundle writes each completed subtree to the statistics store, emitting its path.
   */
  static final class CaptureBatchFn extends DoFn<Integer, KV<String, PartialRef>> {
    private final SweepPlan plan;
    private final CalibrationPlan calibration;
    private final Counter batches = Metrics.counter(CollectStatistics.class, BATCHES_COUNTER);
    private transient ActivationCapture capture;
    private transient Map<String, BatchOrderTree<HessianAccumulator>> bundle;

    CaptureBatchFn(SweepPlan plan, CalibrationPlan calibration) {
      this.plan = plan;
      this.calibration = calibration;
    }

    @StartBundle
    public void startBundle() {
      bundle = new TreeMap<>();
    }

    @ProcessElement
    public void process(@Element Integer batch) {
      if (capture == null) {
        capture = ActivationCapture.open(WorkerCache.model(plan.modelPath()), calibration.layers(),
            calibration.capture());
      }
      Dataset data = WorkerCache.dataset(calibration.dataPath(), plan.modelInputs(), false);
      Map<String, LayerStatistics> partials =
          capture.run(data, calibration.batchStart(batch), calibration.batchEnd(batch));
      partials.forEach((layer, partial) -> bundle.computeIfAbsent(layer, l -> new BatchOrderTree<>(HessianAccumulator::merge))
          .addBatch(batch, leaf(partial)));
      batches.inc();
      Progress.mark(plan.stagingDir(), "calibrate", "batch-" + batch);
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      Path staging = Path.of(plan.stagingDir());
      bundle.forEach((layer, tree) -> {
        for (BatchOrderTree.Subtree<HessianAccumulator> subtree : tree.subtrees()) {
          Path file = StatisticsCache.partialFile(staging, layer, subtree.level(), subtree.start());
          StatisticsCache.writePartial(file, subtree.total());
          context.output(KV.of(layer, new PartialRef(subtree.level(), subtree.start(), file.toString())),
              BoundedWindow.TIMESTAMP_MIN_VALUE, GlobalWindow.INSTANCE);
        }
      });
      bundle = null;
    }

    @Teardown
    public void close() {
      if (capture != null) {
        capture.close();
        capture = null;
      }
    }
  }

  /** One batch's statistics as a tree leaf: an accumulator holding exactly the batch's values. */
  static HessianAccumulator leaf(LayerStatistics statistics) {
    HessianAccumulator leaf = new HessianAccumulator(statistics.layer(), statistics.dim(), statistics.groups());
    leaf.add(statistics);
    return leaf;
  }

  /**
   * Sums one layer's partials from the statistics store along the batch tree (in batch order, so only O(log batches)
   * partials are in memory), writes the total to the statistics cache and deletes the partials.
   */
  static final class SumPartialsFn extends DoFn<KV<String, Iterable<PartialRef>>, String> {
    private final String cacheDir;

    SumPartialsFn(String cacheDir) {
      this.cacheDir = cacheDir;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<PartialRef>> partials, OutputReceiver<String> out) {
      List<PartialRef> refs = new ArrayList<>();
      partials.getValue().forEach(refs::add);
      boolean summedBefore = refs.stream().anyMatch(ref -> !Files.isRegularFile(Path.of(ref.path())))
          && StatisticsCache.holdsAll(Path.of(cacheDir), List.of(partials.getKey()));
      if (summedBefore) { // a retry of this step after its partials were summed, cached and deleted
        out.output(partials.getKey());
        return;
      }
      LayerStatistics total = sum(refs);
      StatisticsCache.write(Path.of(cacheDir), total);
      for (PartialRef ref : refs) {
        try {
          Files.deleteIfExists(Path.of(ref.path()));
        } catch (IOException e) {
          throw new UncheckedIOException("cannot delete partial calibration statistics " + ref.path(), e);
        }
      }
      out.output(partials.getKey());
    }

    static LayerStatistics sum(List<PartialRef> refs) {
      List<PartialRef> inOrder = new ArrayList<>(refs);
      inOrder.sort(Comparator.comparingInt(PartialRef::start).thenComparingInt(PartialRef::level));
      BatchOrderTree<HessianAccumulator> tree = new BatchOrderTree<>(HessianAccumulator::merge);
      for (PartialRef ref : inOrder) {
        tree.add(ref.level(), ref.start(), StatisticsCache.readPartial(Path.of(ref.path())));
      }
      return tree.total().toStatistics();
    }
  }
}
