package dev.bitsweep.pipeline;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.OutputComparison;
import dev.bitsweep.spec.SweepSpec;
import java.nio.file.Path;
import java.util.Objects;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * Fans evaluation batches x packaged models out, runs the compressed model on each batch with ONNX Runtime, compares
 * it with the original model's output for that batch (computed once per sweep and kept in the
 * {@link OriginalOutputCache}) and combines the comparisons per config. Sessions get {@code threadsPerTask}
 * intra-op threads (the slot's share of the cores, as compression tasks), so parallel slots do not oversubscribe
 * the machine. A batch that cannot be evaluated is an error in its config's summary, not a failed job; failed
 * packages are not evaluated (their run row already says why).
 */
public final class EvaluatePackages
    extends PTransform<PCollection<KV<String, PackagedModel>>, PCollection<KV<String, EvalSummary>>> {
  private final SweepPlan plan;
  private final String originalOutputsDir;
  private final int threadsPerTask;

  private EvaluatePackages(SweepPlan plan, String originalOutputsDir, int threadsPerTask) {
    this.plan = Objects.requireNonNull(plan, "plan");
    this.originalOutputsDir = originalOutputsDir;
    if (threadsPerTask < 1) {
      throw new IllegalArgumentException("threads per task must be >= 1, got " + threadsPerTask);
    }
    this.threadsPerTask = threadsPerTask;
  }

  /** Original outputs cached beside the staging area (under the out directory's .cache), one thread per session. */
  public static EvaluatePackages of(SweepPlan plan) {
    Path out = Path.of(plan.stagingDir()).getParent().getParent();
    return new EvaluatePackages(plan, OriginalOutputCache.directory(out).toString(), 1);
  }

  /** The directory of the original model's cached outputs (normally {@code <out>/.cache/original-outputs}). */
  public EvaluatePackages withOriginalOutputs(Path directory) {
    return new EvaluatePackages(plan, Objects.requireNonNull(directory, "directory").toString(), threadsPerTask);
  }

  /** Intra-op threads of each ONNX Runtime session (the runner's threads per task). */
  public EvaluatePackages withThreadsPerTask(int threads) {
    return new EvaluatePackages(plan, originalOutputsDir, threads);
  }

  @Override
  public PCollection<KV<String, EvalSummary>> expand(PCollection<KV<String, PackagedModel>> packages) {
    return packages
        .apply("SplitIntoBatches", ParDo.of(new SplitIntoBatchesFn(plan)))
        .apply("SpreadBatches", Reshuffle.viaRandomKey())
        .apply("Evaluate", ParDo.of(new EvaluateFn(plan, originalOutputsDir, threadsPerTask)))
        .apply("CombinePerConfig", Combine.perKey(new SumInBatchOrder()));
  }

  static final class SplitIntoBatchesFn extends DoFn<KV<String, PackagedModel>, EvalTask> {
    private final SweepPlan plan;

    SplitIntoBatchesFn(SweepPlan plan) {
      this.plan = plan;
    }

    @ProcessElement
    public void process(@Element KV<String, PackagedModel> packaged, OutputReceiver<EvalTask> out) {
      if (!packaged.getValue().ok()) {
        return;
      }
      for (int batch = 0; batch < plan.batchCount(); batch++) {
        out.output(new EvalTask(packaged.getKey(), packaged.getValue().packagePath(), batch));
      }
    }
  }

  static final class EvaluateFn extends DoFn<EvalTask, KV<String, EvalPartial>> {
    private final SweepPlan plan;
    private final String originalOutputsDir;
    private final int threadsPerTask;

    EvaluateFn(SweepPlan plan, String originalOutputsDir, int threadsPerTask) {
      this.plan = plan;
      this.originalOutputsDir = originalOutputsDir;
      this.threadsPerTask = threadsPerTask;
    }

    @ProcessElement
    public void process(@Element EvalTask task, OutputReceiver<KV<String, EvalPartial>> out) {
      long start = System.nanoTime();
      EvalPartial partial;
      try {
        partial = compare(task, start);
      } catch (RuntimeException e) {
        partial = EvalPartial.failed(task.batch(), SweepRunner.rootMessage(e), CompressLayers.seconds(start));
      }
      Progress.mark(plan.stagingDir(), "evaluate", task.configId() + "--" + task.batch());
      out.output(KV.of(task.configId(), partial));
    }

    private EvalPartial compare(EvalTask task, long start) {
      boolean labelled = plan.task() == SweepSpec.Task.CLASSIFICATION;
      Dataset data = WorkerCache.dataset(plan.evalDataPath(), plan.modelInputs(), labelled);
      int from = plan.batchStart(task.batch());
      int to = plan.batchEnd(task.batch());
      ModelRunner.Output original = originalOutput(data, from, to);
      WorkerCache.TimedOutput compressed =
          WorkerCache.timedRun(task.packagePath(), plan.modelInputs(), threadsPerTask, data, from, to);
      long[] labels = labelled ? data.labels().orElseThrow().longs(from, to) : null;
      NpyArray mask = data.inputs().get("attention_mask");
      long[] attentionMask = mask == null ? null : mask.longs(from, to);
      OutputComparison comparison = OutputComparison.of(original.values(), compressed.output().values(),
          original.shape(), labels, attentionMask);
      return EvalPartial.of(task.batch(), comparison, CompressLayers.seconds(start))
          .withSessionTimes(compressed.sessionSeconds(), compressed.runSeconds());
    }

    private ModelRunner.Output originalOutput(Dataset data, int from, int to) {
      String identity = OriginalOutputCache.identity(plan.modelSha256(), plan.evalDataSha256(), from, to,
          ModelRunner.settings(threadsPerTask));
      return OriginalOutputCache.get(Path.of(originalOutputsDir), identity,
          () -> WorkerCache.timedRun(plan.modelPath(), plan.modelInputs(), threadsPerTask, data, from, to).output());
    }
  }
}
