package dev.bitsweep.pipeline;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.OutputComparison;
import dev.bitsweep.spec.SweepSpec;
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

  private EvaluatePackages(SweepPlan plan) {
    this.plan = Objects.requireNonNull(plan, "plan");
  }

  public static EvaluatePackages of(SweepPlan plan) {
    return new EvaluatePackages(plan);
  }

  @Override
  public PCollection<KV<String, EvalSummary>> expand(PCollection<KV<String, PackagedModel>> packages) {
    return packages
        .apply("SplitIntoBatches", ParDo.of(new SplitIntoBatchesFn(plan)))
        .apply("SpreadBatches", Reshuffle.viaRandomKey())
        .apply("Evaluate", ParDo.of(new EvaluateFn(plan)))
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

    EvaluateFn(SweepPlan plan) {
      this.plan = plan;
    }

    @ProcessElement
    public void process(@Element EvalTask task, OutputReceiver<KV<String, EvalPartial>> out) {
      EvalPartial partial = ResumeCache.evaluated(plan, task);
      if (partial != null) {
        Progress.mark(plan.stagingDir(), ResumeCache.REUSED_EVALUATE, task.configId() + "--" + task.batch());
      } else {
        long start = System.nanoTime();
        try {
          partial = EvalPartial.of(task.batch(), compare(task), CompressLayers.seconds(start));
        } catch (RuntimeException e) {
          partial = EvalPartial.failed(task.batch(), SweepRunner.rootMessage(e), CompressLayers.seconds(start));
        }
        ResumeCache.storeEvaluated(plan, task, partial);
      }
      Progress.mark(plan.stagingDir(), "evaluate", task.configId() + "--" + task.batch());
      out.output(KV.of(task.configId(), partial));
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
