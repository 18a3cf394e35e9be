package dev.bitsweep.pipeline;

import dev.bitsweep.activations.ActivationHistogram;
import dev.bitsweep.activations.ActivationRecorder;
import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.stats.ActivationCapture;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
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
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * The calibration statistics of every layer, computed once per (model, calibration data, samples). The work is
 * (capture group, chunk) tasks ({@link CalibrationPlan}): a task runs the model on its chunk's batches, in batch
 * order, adding each batch to one accumulator per Hessian of its group (layers reading the same tensor share one),
 * writes those partial sums to the statistics store ({@link StatisticsCache}) and emits only their paths. Per
 * Hessian, the chunks' partials are then summed there in chunk order, streaming, into the statistics cache, where
 * the compression tasks read them. No Hessian travels through a shuffle, no task holds more than its group's
 * Hessians, and the bits depend only on the plan, not on the runner, its parallelism or the grouping.
 *
 * <p>When a config quantizes activations, the first group's tasks also record the histogram of every activation
 * tensor it quantizes, in the same loop over their batches; the histograms are small and summed exactly
 * ({@link ActivationHistogram#plus}) into one cache file beside the Hessians. When the cache already holds
 * everything, the sweep does not run this at all. The model is fed as the spec's input layout says; with state
 * inputs a calibration batch is whole sequences, run frame by frame carrying the state.
 */
public final class CollectStatistics extends PTransform<PBegin, PCollection<String>> {
  /** Runs of ONNX Runtime over one calibration batch for one capture group. */
  public static final String BATCHES_COUNTER = "calibration_batches";

  static final TupleTag<KV<String, PartialRef>> HESSIAN_PARTIALS = new TupleTag<>() {};
  static final TupleTag<TreeMap<String, ActivationHistogram>> HISTOGRAMS = new TupleTag<>() {};

  private final SweepPlan plan;
  private final CalibrationPlan calibration;

  private CollectStatistics(SweepPlan plan, CalibrationPlan calibration) {
    this.plan = Objects.requireNonNull(plan, "plan");
    this.calibration = Objects.requireNonNull(calibration, "calibration");
  }

  public static CollectStatistics of(SweepPlan plan, CalibrationPlan calibration) {
    return new CollectStatistics(plan, calibration);
  }

  /** The names of the Hessians now in the cache. */
  @Override
  public PCollection<String> expand(PBegin begin) {
    List<CaptureTask> tasks = new ArrayList<>();
    for (int group = 0; group < calibration.groupCount(); group++) {
      for (int chunk = 0; chunk < calibration.chunkCount(); chunk++) {
        tasks.add(new CaptureTask(group, chunk));
      }
    }
    PCollectionTuple captured = begin
        .apply("CaptureTasks", Create.of(tasks).withCoder(SerializableCoder.of(CaptureTask.class)))
        .apply("SpreadCaptureTasks", Reshuffle.viaRandomKey())
        .apply("Capture", ParDo.of(new CaptureFn(plan, calibration))
            .withOutputTags(HESSIAN_PARTIALS, TupleTagList.of(HISTOGRAMS)));
    captured.get(HISTOGRAMS).setCoder(histogramsCoder());
    if (!calibration.activations().isEmpty()) {
      captured.get(HISTOGRAMS)
          .apply("SumHistograms", Combine.globally(new SumHistogramsFn()))
          .apply("WriteActivationCache", ParDo.of(new WriteActivationsFn(calibration)));
    }
    return captured.get(HESSIAN_PARTIALS)
        .setCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(PartialRef.class)))
        .apply("GatherPartials", GroupByKey.create())
        .apply("SumPerHessian", ParDo.of(new SumPartialsFn(calibration.cacheDir(), calibration.chunkCount())))
        .setCoder(StringUtf8Coder.of());
  }

  @SuppressWarnings("unchecked")
  private static Coder<TreeMap<String, ActivationHistogram>> histogramsCoder() {
    return SerializableCoder.of((Class<TreeMap<String, ActivationHistogram>>) (Class<?>) TreeMap.class);
  }

  /** The batches of chunk {@code chunk} for the Hessians of capture group {@code group}. */
  record CaptureTask(int group, int chunk) implements Serializable {}

  /** A partial sum of one Hessian over one chunk, in the statistics store at {@code path}. */
  record PartialRef(int chunk, String path) implements Serializable {}

  /**
   * Runs one capture task: each batch of its chunk once through the model, its group's layer inputs into the
   * group's accumulators and (first group only) the quantized activations into histograms; then writes each
   * accumulator as the chunk's partial and emits its path, and emits the histograms.
   */
  static final class CaptureFn extends DoFn<CaptureTask, KV<String, PartialRef>> {
    private final SweepPlan plan;
    private final CalibrationPlan calibration;
    private final Counter batches = Metrics.counter(CollectStatistics.class, BATCHES_COUNTER);
    /** The session of one capture group at a time: a group's session fetches only its layers' inputs. */
    private transient ActivationCapture capture;
    private transient int captureGroup = -1;
    private transient ActivationRecorder recorder;

    CaptureFn(SweepPlan plan, CalibrationPlan calibration) {
      this.plan = plan;
      this.calibration = calibration;
    }

    @ProcessElement
    public void process(@Element CaptureTask task, MultiOutputReceiver out) {
      List<Layer> group = calibration.captureGroup(task.group());
      ActivationCapture hessians = group.isEmpty() ? null : capture(task.group(), group);
      ActivationRecorder histograms = task.group() == 0 && !calibration.activations().isEmpty() ? recorder() : null;
      Map<String, HessianAccumulator> sums = hessians == null ? Map.of() : hessians.accumulators();
      TreeMap<String, ActivationHistogram> recorded = new TreeMap<>();
      Dataset data = WorkerCache.dataset(calibration.dataPath(), plan.modelInputs(), false);
      for (int batch = calibration.firstBatch(task.chunk()); batch < calibration.firstBatch(task.chunk() + 1);
          batch++) {
        int from = calibration.batchStart(batch);
        int to = calibration.batchEnd(batch);
        if (hessians != null) {
          hessians.accumulate(data, from, to, sums);
        }
        if (histograms != null) {
          histograms.run(data, from, to).forEach((tensor, h) -> recorded.merge(tensor, h, ActivationHistogram::plus));
        }
        batches.inc();
        Progress.mark(plan.stagingDir(), "calibrate", "group-" + task.group() + "-batch-" + batch);
      }
      Path staging = Path.of(plan.stagingDir());
      sums.forEach((hessian, sum) -> {
        Path file = StatisticsCache.partialFile(staging, hessian, task.chunk());
        StatisticsCache.writePartial(file, sum);
        out.get(HESSIAN_PARTIALS).output(KV.of(hessian, new PartialRef(task.chunk(), file.toString())));
      });
      if (histograms != null) {
        out.get(HISTOGRAMS).output(recorded);
      }
    }

    private ActivationCapture capture(int groupIndex, List<Layer> group) {
      if (capture == null || captureGroup != groupIndex) {
        closeCapture();
        capture = ActivationCapture.open(WorkerCache.model(plan.modelPath()), group, calibration.capture(),
            plan.modelInputs());
        captureGroup = groupIndex;
      }
      return capture;
    }

    private ActivationRecorder recorder() {
      if (recorder == null) {
        recorder = ActivationRecorder.open(WorkerCache.model(plan.modelPath()), calibration.activations(),
            plan.modelInputs());
      }
      return recorder;
    }

    private void closeCapture() {
      if (capture != null) {
        capture.close();
        capture = null;
        captureGroup = -1;
      }
    }

    @Teardown
    public void close() {
      closeCapture();
      if (recorder != null) {
        recorder.close();
        recorder = null;
      }
    }
  }

  /**
   * Sums one Hessian's chunk partials from the statistics store in chunk order (streaming: one accumulator in memory),
   * writes the total to the statistics cache and deletes the partials.
   */
  static final class SumPartialsFn extends DoFn<KV<String, Iterable<PartialRef>>, String> {
    private final String cacheDir;
    private final int chunks;

    SumPartialsFn(String cacheDir, int chunks) {
      this.cacheDir = cacheDir;
      this.chunks = chunks;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<PartialRef>> partials, OutputReceiver<String> out) {
      List<PartialRef> refs = new ArrayList<>();
      partials.getValue().forEach(refs::add);
      reduce(Path.of(cacheDir), partials.getKey(), refs, chunks);
      out.output(partials.getKey());
    }

    /** Sums, caches and deletes one Hessian's partials; idempotent. */
    static void reduce(Path cacheDir, String hessian, List<PartialRef> refs, int chunks) {
      boolean summedBefore = refs.stream().anyMatch(ref -> !Files.isRegularFile(Path.of(ref.path())))
          && StatisticsCache.holdsAll(cacheDir, List.of(hessian));
      if (summedBefore) { // a retry of this step after its partials were summed, cached and deleted
        return;
      }
      StatisticsCache.write(cacheDir, sum(hessian, refs, chunks));
      for (PartialRef ref : refs) {
        try {
          Files.deleteIfExists(Path.of(ref.path()));
        } catch (IOException e) {
          throw new UncheckedIOException("cannot delete partial calibration statistics " + ref.path(), e);
        }
      }
    }

    /** The sum of chunks 0 .. chunks-1, left to right; exactly one partial per chunk (a retry's duplicate counts once). */
    static HessianAccumulator sum(String hessian, List<PartialRef> refs, int chunks) {
      TreeMap<Integer, PartialRef> byChunk = new TreeMap<>();
      refs.forEach(ref -> byChunk.put(ref.chunk(), ref));
      TreeSet<Integer> expected = new TreeSet<>();
      for (int chunk = 0; chunk < chunks; chunk++) {
        expected.add(chunk);
      }
      if (!byChunk.keySet().equals(expected)) {
        throw new IllegalStateException("the statistics of " + hessian + " have partial sums of chunks "
            + byChunk.keySet() + ", expected " + expected + "; a capture task's output is missing");
      }
      List<PartialRef> inOrder = new ArrayList<>(byChunk.values());
      inOrder.sort(Comparator.comparingInt(PartialRef::chunk));
      HessianAccumulator total = StatisticsCache.readPartial(Path.of(inOrder.get(0).path()));
      for (PartialRef ref : inOrder.subList(1, inOrder.size())) {
        StatisticsCache.addPartial(total, Path.of(ref.path()));
      }
      return total;
    }
  }

  /**
   * Sums the capture tasks' histograms per tensor. {@link ActivationHistogram#plus} is exact, commutative and
   * associative, so the sums are the same bits whatever order and grouping the runner delivers them in.
   */
  static final class SumHistogramsFn
      extends Combine.CombineFn<TreeMap<String, ActivationHistogram>, TreeMap<String, ActivationHistogram>,
          TreeMap<String, ActivationHistogram>> {
    @Override
    public TreeMap<String, ActivationHistogram> createAccumulator() {
      return new TreeMap<>();
    }

    @Override
    public TreeMap<String, ActivationHistogram> addInput(TreeMap<String, ActivationHistogram> sums,
        TreeMap<String, ActivationHistogram> partial) {
      partial.forEach((tensor, h) -> sums.merge(tensor, h, ActivationHistogram::plus));
      return sums;
    }

    @Override
    public TreeMap<String, ActivationHistogram> mergeAccumulators(
        Iterable<TreeMap<String, ActivationHistogram>> accumulators) {
      TreeMap<String, ActivationHistogram> merged = new TreeMap<>();
      accumulators.forEach(a -> addInput(merged, a));
      return merged;
    }

    @Override
    public TreeMap<String, ActivationHistogram> extractOutput(TreeMap<String, ActivationHistogram> sums) {
      return sums;
    }

    @Override
    public Coder<TreeMap<String, ActivationHistogram>> getAccumulatorCoder(CoderRegistry registry,
        Coder<TreeMap<String, ActivationHistogram>> inputCoder) {
      return histogramsCoder();
    }

    @Override
    public Coder<TreeMap<String, ActivationHistogram>> getDefaultOutputCoder(CoderRegistry registry,
        Coder<TreeMap<String, ActivationHistogram>> inputCoder) {
      return histogramsCoder();
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
}
