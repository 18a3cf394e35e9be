package dev.bitsweep.results;

import dev.bitsweep.methods.MethodRegistry;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.methods.ResultColumn;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;

/**
 * The Parquet tables a sweep writes, Hive-partitioned by {@code sweep_id} (the partition column is the directory
 * name {@code sweep_id=<id>}, not a column inside the files). The runs table's config columns are the registered
 * methods' result columns ({@link Methods}). Column meanings are documented in the README;
 * {@link #VERSION} changes whenever a column is removed, renamed or changes meaning.
 */
public final class ResultSchemas {
  public static final int VERSION = 1;

  public static final Schema RUNS = runs(Methods.ALL);

  public static final Schema LAYERS = SchemaBuilder.record("layer").namespace("dev.bitsweep.results").fields()
      .requiredInt("schema_version")
      .requiredString("config_id")
      .requiredString("layer")
      .requiredString("op_type")
      .requiredString("shape")
      .requiredLong("params")
      .requiredLong("original_bytes")
      .optionalLong("compressed_bytes")
      .optionalString("encoding")
      .optionalDouble("weight_snr_db")
      .optionalDouble("sparsity")
      .optionalDouble("output_error")
      .requiredDouble("seconds")
      .requiredString("status")
      .optionalString("error")
      .optionalDouble("percdamp_used")
      .optionalInt("layer_index")
      .endRecord();

  private ResultSchemas() {}

  /** The runs table for the methods of {@code registry}: its config columns follow {@code method}. */
  static Schema runs(MethodRegistry registry) {
    SchemaBuilder.FieldAssembler<Schema> fields = SchemaBuilder.record("run").namespace("dev.bitsweep.results").fields()
        .requiredInt("schema_version")
        .requiredString("config_id")
        .requiredString("model")
        .requiredString("model_sha256")
        .requiredString("task")
        .optionalString("method");
    for (ResultColumn column : registry.resultColumns()) {
      fields = switch (column.type()) {
        case STRING -> fields.optionalString(column.name());
        case INT -> fields.optionalInt(column.name());
        case DOUBLE -> fields.optionalDouble(column.name());
        case BOOLEAN -> fields.optionalBoolean(column.name());
      };
    }
    return fields
        .requiredString("config_json")
        .requiredString("status")
        .optionalString("error")
        .requiredLong("original_bytes")
        .optionalLong("compressed_bytes")
        .optionalDouble("size_ratio")
        .optionalDouble("bits_per_weight")
        .requiredInt("layers_compressed")
        .optionalDouble("accuracy")
        .optionalDouble("baseline_accuracy")
        .optionalDouble("agreement")
        .optionalDouble("output_snr_db")
        .optionalDouble("max_abs_diff")
        .optionalDouble("embedding_cosine")
        .optionalDouble("top5_accuracy")
        .optionalDouble("baseline_top5_accuracy")
        .optionalDouble("roc_auc")
        .optionalDouble("baseline_roc_auc")
        .optionalDouble("threshold_accuracy")
        .optionalDouble("baseline_threshold_accuracy")
        .optionalDouble("sequence_accuracy")
        .optionalDouble("baseline_sequence_accuracy")
        .optionalDouble("cer")
        .optionalDouble("baseline_cer")
        .optionalDouble("mse")
        .optionalDouble("mae")
        .optionalDouble("baseline_mse")
        .optionalDouble("baseline_mae")
        .optionalDouble("mse_to_original")
        .optionalDouble("perplexity")
        .optionalDouble("baseline_perplexity")
        .optionalDouble("token_agreement")
        .optionalDouble("kl_divergence")
        .optionalString("user_metrics_json")
        .optionalString("headline_metric")
        .optionalDouble("headline_metric_unfused")
        .requiredInt("eval_samples")
        .requiredString("runtime")
        .requiredString("runtime_settings")
        .requiredDouble("compress_seconds")
        .requiredDouble("package_seconds")
        .optionalDouble("eval_seconds")
        .optionalDouble("eval_session_seconds")
        .optionalDouble("eval_run_seconds")
        .optionalString("package_path")
        .requiredString("bitsweep_version")
        .endRecord();
  }
}
