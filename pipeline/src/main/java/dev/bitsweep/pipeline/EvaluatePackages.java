package dev.bitsweep.pipeline;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.InputLayout;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.OutputComparison;
import dev.bitsweep.eval.metrics.Labels;
import dev.bitsweep.eval.metrics.Metric;
import dev.bitsweep.eval.metrics.MetricBatch;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.onnx.external.ModelSize;
import dev.bitsweep.spec.SweepSpec;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * Fans evaluation batches x packaged models out, runs each package on each batch with ONNX Runtime, compares it with
 * the original model's output for that batch (computed once per sweep and kept in the {@link OriginalOutputCache})
 * and combines the comparisons per config. Sessions ({@link EvalSessions}) get {@code threadsPerTask} intra-op
 * threads (the slot's share of the cores, as compression tasks) and fit the worker's evaluation memory budget. A
 * batch that cannot be evaluated is an error in its config's summary, not a failed job; failed packages are not
 * evaluated (their run row already says why).
 */
public final class EvaluatePackages
    extends PTransform<PCollection<KV<String, PackagedModel>>, PCollection<KV<String, EvalSummary>>> {
  private final SweepPlan plan;
  private final Evaluation evaluation;
  private final String originalOutputsDir;
  private final int threadsPerTask;
  private final long evalMemoryBytes;

  private EvaluatePackages(SweepPlan plan, Evaluation evaluation, String originalOutputsDir, int threadsPerTask,
      long evalMemoryBytes) {
    this.plan = Objects.requireNonNull(plan, "plan");
    this.evaluation = evaluation;
    this.originalOutputsDir = originalOutputsDir;
    if (threadsPerTask < 1) {
      throw new IllegalArgumentException("threads per task must be >= 1, got " + threadsPerTask);
    }
    this.threadsPerTask = threadsPerTask;
    this.evalMemoryBytes = evalMemoryBytes;
  }

  /**
   * Output comparison of the first output only, every package with the QDQ fusion disabled; original outputs cached
   * under the out directory's .cache; one thread per session; the default memory budget of each worker.
   */
  public static EvaluatePackages of(SweepPlan plan) {
    Path out = Path.of(Objects.requireNonNull(plan, "plan").stagingDir()).getParent().getParent();
    return new EvaluatePackages(plan, null, OriginalOutputCache.directory(out).toString(), 1, 0);
  }

  /** The task metric of {@code evaluation}, on its output, each package under its session settings. */
  public EvaluatePackages withEvaluation(Evaluation evaluation) {
    return new EvaluatePackages(plan, Objects.requireNonNull(evaluation, "evaluation"), originalOutputsDir,
        threadsPerTask, evalMemoryBytes);
  }

  /** The directory of the original model's cached outputs (normally {@code <out>/.cache/original-outputs}). */
  public EvaluatePackages withOriginalOutputs(Path directory) {
    return new EvaluatePackages(plan, evaluation, Objects.requireNonNull(directory, "directory").toString(),
        threadsPerTask, evalMemoryBytes);
  }

  /** Intra-op threads of each ONNX Runtime session (the runner's threads per task). */
  public EvaluatePackages withThreadsPerTask(int threads) {
    return new EvaluatePackages(plan, evaluation, originalOutputsDir, threads, evalMemoryBytes);
  }

  /** Native memory the sessions of one worker JVM may take; 0: {@link EvalMemory#defaultBudgetBytes} there. */
  public EvaluatePackages withEvalMemory(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("evaluation memory must be >= 0 (0: the default), got " + bytes);
    }
    return new EvaluatePackages(plan, evaluation, originalOutputsDir, threadsPerTask, bytes);
  }

  @Override
  public PCollection<KV<String, EvalSummary>> expand(PCollection<KV<String, PackagedModel>> packages) {
    return packages
        .apply("SplitIntoBatches", ParDo.of(new SplitIntoBatchesFn(plan)))
        .apply("SpreadBatches", Reshuffle.viaRandomKey())
        .apply("Evaluate", ParDo.of(new EvaluateFn(plan, evaluation, originalOutputsDir, threadsPerTask,
            evalMemoryBytes)))
        .apply("CombinePerConfig", Combine.perKey(new SumInBatchOrder(evaluation == null ? null : evaluation.metric())));
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
    /** Models' sizes on disk (file and external data), measured once per worker. */
    private static final Map<String, Long> MODEL_BYTES = new ConcurrentHashMap<>();

    private final SweepPlan plan;
    private final Evaluation evaluation;
    private final String originalOutputsDir;
    private final int threadsPerTask;
    private final long evalMemoryBytes;
    /** The spec's input layout ({@link InputLayout#identity}): values and states change the original's outputs. */
    private transient String layout;

    EvaluateFn(SweepPlan plan, Evaluation evaluation, String originalOutputsDir, int threadsPerTask,
        long evalMemoryBytes) {
      this.plan = plan;
      this.evaluation = evaluation;
      this.originalOutputsDir = originalOutputsDir;
      this.threadsPerTask = threadsPerTask;
      this.evalMemoryBytes = evalMemoryBytes;
    }

    @ProcessElement
    public void process(@Element EvalTask task, OutputReceiver<KV<String, EvalPartial>> out) {
      EvalPartial partial = ResumeCache.evaluated(plan, task);
      if (partial != null) {
        Progress.mark(plan.stagingDir(), ResumeCache.REUSED_EVALUATE, task.configId() + "--" + task.batch());
      } else {
        long start = System.nanoTime();
        try {
          partial = measure(task, start);
        } catch (RuntimeException e) {
          partial = EvalPartial.failed(task.batch(), SweepRunner.rootMessage(e), CompressLayers.seconds(start));
        }
        ResumeCache.storeEvaluated(plan, task, partial);
      }
      EvalSessions.batchDone(plan.stagingDir(), task.packagePath(), plan.batchCount());
      Progress.mark(plan.stagingDir(), "evaluate", task.configId() + "--" + task.batch());
      out.output(KV.of(task.configId(), partial));
    }

    /**
     * The output comparison (and the task metric, when there is one) of one batch on the evaluated output; an
     * activation-quantized package is measured with the QDQ fusion (as it deploys) and once more with it disabled.
     */
    @SuppressWarnings("unchecked")
    private EvalPartial measure(EvalTask task, long start) {
      boolean labelled = evaluation == null && plan.task() == SweepSpec.Task.CLASSIFICATION;
      Dataset data = WorkerCache.dataset(plan.evalDataPath(), plan.modelInputs(), labelled);
      int from = plan.batchStart(task.batch());
      int to = plan.batchEnd(task.batch());
      Set<String> outputs = evaluation == null ? Set.of() : Set.of(evaluation.output());
      ModelRunner.Output original = originalOutput(outputs, data, from, to);
      NpyArray mask = data.inputs().get("attention_mask");
      long[] attentionMask = mask == null ? null : mask.longs(from, to);
      SessionSettings settings = evaluation == null ? SessionSettings.QDQ_DISABLED
          : evaluation.settingsOf(task.configId());
      EvalSessions.Timed packaged = EvalSessions.run(request(task.packagePath(), settings, outputs,
          packageBytes(task.packagePath())), data, from, to);
      ModelRunner.Output output = first(packaged);
      if (evaluation == null) {
        long[] labels = labelled ? data.labels().orElseThrow().longs(from, to) : null;
        OutputComparison comparison = OutputComparison.of(original.values(), output.values(), original.shape(),
            labels, attentionMask);
        return EvalPartial.of(task.batch(), comparison, CompressLayers.seconds(start))
            .withSessionTimes(packaged.sessionSeconds(), packaged.runSeconds());
      }
      String name = evaluation.output();
      Map<String, ModelRunner.Output> originals = Map.of(name, original);
      Labels labels = evaluation.labelsPath() == null ? null
          : WorkerCache.labels(evaluation.task(), evaluation.labelsPath()).slice(from, to);
      OutputComparison comparison = comparison(original, output, attentionMask);
      Metric<Serializable> metric = (Metric<Serializable>) evaluation.metric();
      Map<String, MetricBatch.Input> inputs = EvaluationCheck.batchInputs(plan.modelInputs(), data, from, to);
      Serializable partial = metric == null ? null
          : metric.partial(new MetricBatch(originals, packaged.outputs(), labels, inputs));
      if (settings != SessionSettings.QDQ_FUSED) {
        return EvalPartial.of(task.batch(), comparison, partial, null, null, CompressLayers.seconds(start))
            .withSessionTimes(packaged.sessionSeconds(), packaged.runSeconds());
      }
      EvalSessions.Timed unfused = EvalSessions.run(request(task.packagePath(), SessionSettings.QDQ_DISABLED, outputs,
          packageBytes(task.packagePath())), data, from, to);
      OutputComparison unfusedComparison = comparison(original, first(unfused), attentionMask);
      Serializable unfusedPartial = metric == null ? null
          : metric.partial(new MetricBatch(originals, unfused.outputs(), labels, inputs));
      return EvalPartial.of(task.batch(), comparison, partial, unfusedComparison, unfusedPartial,
          CompressLayers.seconds(start)).withSessionTimes(packaged.sessionSeconds() + unfused.sessionSeconds(),
          packaged.runSeconds() + unfused.runSeconds());
    }

    private static ModelRunner.Output first(EvalSessions.Timed timed) {
      return timed.outputs().values().iterator().next();
    }

    private EvalSessions.Request request(String modelPath, SessionSettings settings, Set<String> outputs,
        java.util.function.LongSupplier nativeBytes) {
      return new EvalSessions.Request(modelPath, settings, outputs, threadsPerTask, plan.modelInputs(), nativeBytes,
          EvalMemory.budgetBytes(evalMemoryBytes));
    }

    /** The original model's output for samples [from, to): from the cache, or run once (per batch and sweep). */
    private ModelRunner.Output originalOutput(Set<String> outputs, Dataset data, int from, int to) {
      if (layout == null) {
        layout = InputLayout.identity(plan.modelInputs());
      }
      String identity = OriginalOutputCache.identity(plan.modelSha256(), plan.evalDataSha256(), from, to,
          ModelRunner.settings(threadsPerTask) + (outputs.isEmpty() ? "" : "; output=" + outputs.iterator().next())
          + (layout.isEmpty() ? "" : "; inputs=" + layout));
      return OriginalOutputCache.get(Path.of(originalOutputsDir), identity, () -> {
        long original = modelBytes(plan.modelPath());
        ModelRunner.Output output = first(EvalSessions.run(request(plan.modelPath(), SessionSettings.QDQ_DISABLED,
            outputs, () -> EvalMemory.sessionBytes(original, original)), data, from, to));
        EvalSessions.batchDone(plan.stagingDir(), plan.modelPath(), plan.batchCount());
        return output;
      });
    }

    private java.util.function.LongSupplier packageBytes(String packagePath) {
      return () -> EvalMemory.sessionBytes(modelBytes(plan.modelPath()), ModelSize.totalBytes(Path.of(packagePath)));
    }

    private static long modelBytes(String path) {
      return MODEL_BYTES.computeIfAbsent(path, p -> ModelSize.totalBytes(Path.of(p)));
    }

    private static OutputComparison comparison(ModelRunner.Output original, ModelRunner.Output packaged,
        long[] attentionMask) {
      return OutputComparison.of(original.values(), packaged.values(), original.shape(), null, attentionMask);
    }
  }
}
