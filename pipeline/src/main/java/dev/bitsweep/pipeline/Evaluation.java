package dev.bitsweep.pipeline;

import dev.bitsweep.eval.metrics.Labels;
import dev.bitsweep.eval.metrics.Metric;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.spec.SweepSpec;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;

/**
 * How the packages are evaluated: the task's metric on one named model output, against which labels, and which
 * configs are measured with ONNX Runtime's QDQ fusion (the activation-quantized ones, as they deploy) rather than
 * with {@code session.disable_quant_qdq}.
 *
 * @param metric the task's metric; null for task embedding (output comparison only)
 * @param output the model output the metric and the output comparison read
 * @param labelsPath the labels file, or null when the task reads none
 * @param fusedConfigs ids of the configs evaluated with {@link SessionSettings#QDQ_FUSED}
 */
public record Evaluation(SweepSpec.Task task, Metric<?> metric, String output, String labelsPath,
    Set<String> fusedConfigs) implements Serializable {

  public Evaluation {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(output, "output");
    fusedConfigs = Set.copyOf(fusedConfigs);
  }

  public SessionSettings settingsOf(String configId) {
    return fusedConfigs.contains(configId) ? SessionSettings.QDQ_FUSED : SessionSettings.QDQ_DISABLED;
  }

  /** The labels in the form the task reads them. */
  public static Labels readLabels(SweepSpec.Task task, Path file) {
    return switch (task) {
      case CTC -> Labels.readSequences(file);
      case REGRESSION -> Labels.readTargets(file);
      default -> Labels.readClasses(file);
    };
  }

  /**
   * The column of the runs table that is the task's headline figure, which an activation-quantized row also
   * reports with the fusion disabled ({@code headline_metric_unfused}).
   */
  public static String headlineColumn(SweepSpec.Task task) {
    return switch (task) {
      case CLASSIFICATION -> "accuracy";
      case AGREEMENT -> "agreement";
      case EMBEDDING -> "embedding_cosine";
      case BINARY -> "roc_auc";
      case CTC -> "sequence_accuracy";
      case REGRESSION -> "mse";
      case LANGUAGE_MODEL -> "perplexity";
      case USER -> "user_metrics_json";
    };
  }
}
