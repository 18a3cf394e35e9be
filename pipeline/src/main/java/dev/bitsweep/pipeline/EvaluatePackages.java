package dev.bitsweep.pipeline;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.OutputComparison;
import dev.bitsweep.eval.metrics.Labels;
import dev.bitsweep.eval.metrics.Metric;
import dev.bitsweep.eval.metrics.MetricBatch;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.spec.SweepSpec;
import java.io.Serializable;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * Fans evaluation batches x packaged models out, runs original and compressed model on each batch with ONNX Runtime,
 * and combines the comparisons per config. A batch that cannot be evaluated is an error in its config's summary,
 * not a failed job; failed packages are not evaluated (their run row already says why).
 */
public final class EvaluatePackages
    extends PTransform<PCollection<KV<String, PackagedModel>>, PCollection<KV<String, EvalSummary>>> {
  private final SweepPlan plan;
  private final Evaluation evaluation;

  private EvaluatePackages(SweepPlan plan, Evaluation evaluation) {
    this.plan = Objects.requireNonNull(plan, "plan");
    this.evaluation = evaluation;
  }

  /** Output comparison of the first output only, every package with the QDQ fusion disabled. */
  public static EvaluatePackages of(SweepPlan plan) {
    return new EvaluatePackages(plan, null);
  }

  /** The task metric of {@code evaluation}, on its output, each package under its session settings. */
  public EvaluatePackages withEvaluation(Evaluation evaluation) {
    return new EvaluatePackages(plan, Objects.requireNonNull(evaluation, "evaluation"));
  }

  @Override
  public PCollection<KV<String, EvalSummary>> expand(PCollection<KV<String, PackagedModel>> packages) {
    return packages
        .apply("SplitIntoBatches", ParDo.of(new SplitIntoBatchesFn(plan)))
        .apply("SpreadBatches", Reshuffle.viaRandomKey())
        .apply("Evaluate", ParDo.of(new EvaluateFn(plan, evaluation)))
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
    private final SweepPlan plan;
    private final Evaluation evaluation;

    EvaluateFn(SweepPlan plan, Evaluation evaluation) {
      this.plan = plan;
      this.evaluation = evaluation;
    }

    @ProcessElement
    public void process(@Element EvalTask task, OutputReceiver<KV<String, EvalPartial>> out) {
      EvalPartial partial = ResumeCache.evaluated(plan, task);
      if (partial != null) {
        Progress.mark(plan.stagingDir(), ResumeCache.REUSED_EVALUATE, task.configId() + "--" + task.batch());
      } else {
        long start = System.nanoTime();
        try {
          partial = evaluation == null ? EvalPartial.of(task.batch(), compare(task), CompressLayers.seconds(start))
              : measure(task, start);
        } catch (RuntimeException e) {
          partial = EvalPartial.failed(task.batch(), SweepRunner.rootMessage(e), CompressLayers.seconds(start));
        }
        ResumeCache.storeEvaluated(plan, task, partial);
      }
      Progress.mark(plan.stagingDir(), "evaluate", task.configId() + "--" + task.batch());
      out.output(KV.of(task.configId(), partial));
    }

    /**
     * The task metric and output comparison of one batch on the named output; an activation-quantized package is
     * measured with the QDQ fusion (as it deploys) and once more with it disabled.
     */
    @SuppressWarnings("unchecked")
    private EvalPartial measure(EvalTask task, long start) {
      Dataset data = WorkerCache.dataset(plan.evalDataPath(), plan.modelInputs(), false);
      int from = plan.batchStart(task.batch());
      int to = plan.batchEnd(task.batch());
      String output = evaluation.output();
      Map<String, ModelRunner.Output> original =
          EvalSessions.original(plan.modelPath(), output, plan.modelInputs(), data, from, to);
      Labels labels = evaluation.labelsPath() == null ? null
          : EvalSessions.labels(evaluation.task(), evaluation.labelsPath()).slice(from, to);
      NpyArray mask = data.inputs().get("attention_mask");
      long[] attentionMask = mask == null ? null : mask.longs(from, to);
      SessionSettings settings = evaluation.settingsOf(task.configId());
      Map<String, ModelRunner.Output> packaged =
          EvalSessions.run(task.packagePath(), settings, output, plan.modelInputs(), data, from, to);
      OutputComparison comparison = comparison(original.get(output), packaged.get(output), attentionMask);
      Metric<Serializable> metric = (Metric<Serializable>) evaluation.metric();
      Map<String, MetricBatch.Input> inputs = EvaluationCheck.batchInputs(plan.modelInputs(), data, from, to);
      Serializable partial = metric == null ? null
          : metric.partial(new MetricBatch(original, packaged, labels, inputs));
      if (settings != SessionSettings.QDQ_FUSED) {
        return EvalPartial.of(task.batch(), comparison, partial, null, null, CompressLayers.seconds(start));
      }
      Map<String, ModelRunner.Output> unfused = EvalSessions.run(task.packagePath(), SessionSettings.QDQ_DISABLED,
          output, plan.modelInputs(), data, from, to);
      OutputComparison unfusedComparison = comparison(original.get(output), unfused.get(output), attentionMask);
      Serializable unfusedPartial = metric == null ? null
          : metric.partial(new MetricBatch(original, unfused, labels, inputs));
      return EvalPartial.of(task.batch(), comparison, partial, unfusedComparison, unfusedPartial,
          CompressLayers.seconds(start));
    }

    private static OutputComparison comparison(ModelRunner.Output original, ModelRunner.Output packaged,
        long[] attentionMask) {
      return OutputComparison.of(original.values(), packaged.values(), original.shape(), null, attentionMask);
    }

    private OutputComparison compare(EvalTask task) {
      boolean labelled = plan.task() == SweepSpec.Task.CLASSIFICATION;
      Dataset data = WorkerCache.dataset(plan.evalDataPath(), plan.modelInputs(), labelled);
      int from = plan.batchStart(task.batch());
      int to = plan.batchEnd(task.batch());
      ModelRunner.Output original = WorkerCache.originalOutput(plan.modelPath(), plan.modelInputs(), data, from, to);
      ModelRunner.Output compressed = WorkerCache.run(task.packagePath(), plan.modelInputs(), data, from, to);
      long[] labels = labelled ? data.labels().orElseThrow().longs(from, to) : null;
      NpyArray mask = data.inputs().get("attention_mask");
      long[] attentionMask = mask == null ? null : mask.longs(from, to);
      return OutputComparison.of(original.values(), compressed.values(), original.shape(), labels, attentionMask);
    }
  }
}
