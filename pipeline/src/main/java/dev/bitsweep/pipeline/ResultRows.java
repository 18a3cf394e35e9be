package dev.bitsweep.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.OutputComparison;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.results.ResultSchemas;
import dev.bitsweep.spec.ConfigIds;
import dev.bitsweep.spec.SweepSpec;
import dev.bitsweep.spec.SweepConfig;
import java.nio.file.Path;
import java.util.Map;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/** Builds the rows of the results tables ({@link ResultSchemas}) from a config's package and evaluation. */
public final class ResultRows {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ResultRows() {}

  /** A run row of a sweep whose evaluation sessions ran on one intra-op thread. */
  static GenericRecord run(SweepPlan plan, SweepConfig config, PackagedModel packaged, EvalSummary summary) {
    return run(plan, config, packaged, summary, 1);
  }

  static GenericRecord run(SweepPlan plan, SweepConfig config, PackagedModel packaged, EvalSummary summary,
      int evalThreads) {
    GenericRecord row = new GenericData.Record(ResultSchemas.RUNS);
    row.put("schema_version", ResultSchemas.VERSION);
    row.put("config_id", config.configId());
    row.put("model", Path.of(plan.modelPath()).getFileName().toString());
    row.put("model_sha256", plan.modelSha256());
    row.put("task", plan.task().label());
    row.put("method", config.activationsOnly() ? ConfigIds.ACTIVATIONS_METHOD
        : config.global() == null ? "mixed" : config.global().method());
    if (config.global() != null) {
      Methods.ALL.resultValues(config.global()).forEach(row::put);
    }
    try {
      row.put("config_json", JSON.writeValueAsString(ConfigDescription.of(config)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    boolean evaluated = packaged.ok() && summary != null && !summary.failed();
    row.put("status", packaged.ok() && !evaluated ? PackagedModel.FAILED : packaged.status());
    row.put("error", packaged.ok() && !evaluated ? evaluationError(summary) : packaged.error());
    row.put("original_bytes", plan.modelBytes());
    row.put("compressed_bytes", packaged.ok() ? packaged.compressedBytes() : null);
    row.put("size_ratio", packaged.ok() ? (double) packaged.compressedBytes() / plan.modelBytes() : null);
    row.put("bits_per_weight", packaged.bitsPerWeight());
    row.put("layers_compressed", packaged.layersCompressed());
    OutputComparison c = evaluated ? summary.comparison() : null;
    row.put("accuracy", c == null ? null : c.accuracy());
    row.put("baseline_accuracy", c == null ? null : c.baselineAccuracy());
    row.put("agreement", c == null ? null : c.agreement());
    row.put("output_snr_db", c == null ? null : c.outputSnrDb());
    row.put("max_abs_diff", c == null ? null : c.maxAbsDiff());
    row.put("embedding_cosine", c == null ? null : c.embeddingCosine());
    Map<String, Double> metrics = evaluated ? summary.metrics() : null;
    if (metrics != null) {
      putMetrics(row, plan.task(), metrics);
    }
    String headline = Evaluation.headlineColumn(plan.task());
    row.put("headline_metric", headline);
    if (evaluated && config.quantizesActivations() && summary.unfusedComparison() != null) {
      row.put("headline_metric_unfused", unfused(plan.task(), headline, summary));
    }
    row.put("eval_samples", c == null ? 0 : (int) c.samples());
    row.put("runtime", ModelRunner.RUNTIME);
    row.put("runtime_settings", (config.quantizesActivations() ? SessionSettings.QDQ_FUSED
        : SessionSettings.QDQ_DISABLED).text(evalThreads));
    row.put("compress_seconds", packaged.compressSeconds());
    row.put("package_seconds", packaged.packageSeconds());
    row.put("eval_seconds", evaluated ? summary.seconds() : null);
    row.put("eval_session_seconds", evaluated ? summary.sessionSeconds() : null);
    row.put("eval_run_seconds", evaluated ? summary.runSeconds() : null);
    row.put("package_path", packaged.ok() ? Path.of("packages", plan.sweepId(), config.configId(), "model.onnx").toString() : null);
    row.put("bitsweep_version", plan.bitsweepVersion());
    return row;
  }

  /** @param layerIndex the layer's place in the model's graph order (as found by LayerFinder), or null if unknown */
  static GenericRecord layer(LayerResult layer, Integer layerIndex) {
    GenericRecord row = new GenericData.Record(ResultSchemas.LAYERS);
    row.put("schema_version", ResultSchemas.VERSION);
    row.put("config_id", layer.configId());
    row.put("layer", layer.layer());
    row.put("op_type", layer.opType());
    row.put("shape", layer.shape());
    row.put("params", layer.params());
    row.put("original_bytes", layer.originalBytes());
    row.put("compressed_bytes", layer.compressedBytes());
    row.put("encoding", layer.encoding());
    row.put("weight_snr_db", layer.weightSnrDb());
    row.put("sparsity", layer.sparsity());
    row.put("output_error", layer.outputError());
    row.put("seconds", layer.seconds());
    row.put("status", layer.status());
    row.put("error", layer.error());
    row.put("percdamp_used", layer.percdampUsed());
    row.put("layer_index", layerIndex);
    row.put("fallback", layer.fallback());
    return row;
  }

  /** Metric value names as the runs table's columns name them (top-1 is the accuracy/agreement columns). */
  static final Map<String, String> METRIC_COLUMNS = Map.ofEntries(
      Map.entry("top1_accuracy", "accuracy"), Map.entry("baseline_top1_accuracy", "baseline_accuracy"),
      Map.entry("top1_agreement", "agreement"), Map.entry("top5_accuracy", "top5_accuracy"),
      Map.entry("baseline_top5_accuracy", "baseline_top5_accuracy"), Map.entry("roc_auc", "roc_auc"),
      Map.entry("baseline_roc_auc", "baseline_roc_auc"), Map.entry("accuracy_at_threshold", "threshold_accuracy"),
      Map.entry("baseline_accuracy_at_threshold", "baseline_threshold_accuracy"),
      Map.entry("decision_agreement", "agreement"), Map.entry("sequence_accuracy", "sequence_accuracy"),
      Map.entry("baseline_sequence_accuracy", "baseline_sequence_accuracy"), Map.entry("cer", "cer"),
      Map.entry("baseline_cer", "baseline_cer"), Map.entry("sequence_agreement", "agreement"),
      Map.entry("mse", "mse"), Map.entry("mae", "mae"), Map.entry("baseline_mse", "baseline_mse"),
      Map.entry("baseline_mae", "baseline_mae"), Map.entry("mse_to_original", "mse_to_original"),
      Map.entry("perplexity", "perplexity"), Map.entry("baseline_perplexity", "baseline_perplexity"),
      Map.entry("token_agreement", "token_agreement"), Map.entry("kl_divergence", "kl_divergence"));

  private static void putMetrics(GenericRecord row, SweepSpec.Task task, Map<String, Double> metrics) {
    if (task == SweepSpec.Task.USER) {
      try {
        row.put("user_metrics_json", JSON.writeValueAsString(metrics));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
      return;
    }
    metrics.forEach((name, value) -> row.put(METRIC_COLUMNS.get(name), value));
    if (task == SweepSpec.Task.BINARY) {
      row.put("accuracy", metrics.get("accuracy_at_threshold"));
      row.put("baseline_accuracy", metrics.get("baseline_accuracy_at_threshold"));
    }
  }

  /** The headline column's value with the QDQ fusion disabled (user metrics: their first value). */
  private static Double unfused(SweepSpec.Task task, String headline, EvalSummary summary) {
    if (task == SweepSpec.Task.EMBEDDING) {
      return summary.unfusedComparison().embeddingCosine();
    }
    Map<String, Double> metrics = summary.unfusedMetrics();
    if (metrics == null) {
      return null;
    }
    if (task == SweepSpec.Task.USER) {
      return metrics.values().stream().findFirst().orElse(null);
    }
    for (Map.Entry<String, Double> entry : metrics.entrySet()) {
      if (headline.equals(METRIC_COLUMNS.get(entry.getKey()))) {
        return entry.getValue();
      }
    }
    return null;
  }

  private static String evaluationError(EvalSummary summary) {
    return summary == null ? "evaluation produced no result" : summary.error();
  }
}
