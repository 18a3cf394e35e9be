package dev.bitsweep.results;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** Within schema version 1 columns are only added: the runs table keeps every earlier column, in order. */
class ResultSchemasTest {
  private static List<String> names(Schema schema) {
    return schema.getFields().stream().map(Schema.Field::name).toList();
  }

  @Test
  void runsColumnsAreTheEarlierOnesPlusTheRegisteredMethodsNewOnes() {
    assertEquals(List.of("schema_version", "config_id", "model", "model_sha256", "task", "method", "mode", "nbits",
        "dtype", "granularity", "group_size", "block_size", "cluster_dim", "enable_per_channel_scale", "lut_dtype",
        "target_sparsity", "n_m_ratio", "prune_block_size", "lazy_batch_size", "config_json", "status", "error",
        "original_bytes", "compressed_bytes", "size_ratio", "bits_per_weight", "layers_compressed", "accuracy",
        "baseline_accuracy", "agreement", "output_snr_db", "max_abs_diff", "embedding_cosine",
        "top5_accuracy", "baseline_top5_accuracy", "roc_auc", "baseline_roc_auc", "threshold_accuracy",
        "baseline_threshold_accuracy", "sequence_accuracy", "baseline_sequence_accuracy", "cer", "baseline_cer", "mse",
        "mae", "baseline_mse", "baseline_mae", "mse_to_original", "perplexity", "baseline_perplexity",
        "token_agreement", "kl_divergence", "user_metrics_json", "headline_metric",
        "headline_metric_unfused", "eval_samples",
        "runtime", "runtime_settings", "compress_seconds", "package_seconds", "eval_seconds", "eval_session_seconds",
        "eval_run_seconds", "package_path",
        "bitsweep_version"), names(ResultSchemas.RUNS));
    assertEquals(Schema.Type.UNION, ResultSchemas.RUNS.getField("lazy_batch_size").schema().getType());
    assertEquals(Schema.Type.INT, ResultSchemas.RUNS.getField("prune_block_size").schema().getTypes().get(1).getType());
  }

  @Test
  void layersColumnsAreTheEarlierOnesPlusNewOnes() {
    assertEquals(List.of("schema_version", "config_id", "layer", "op_type", "shape", "params", "original_bytes",
        "compressed_bytes", "encoding", "weight_snr_db", "sparsity", "output_error", "seconds", "status", "error",
        "percdamp_used", "layer_index"), names(ResultSchemas.LAYERS));
  }
}
