package dev.bitsweep.results;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;

/**
 * The tables a search writes beside a sweep's, Hive-partitioned by {@code sweep_id} (the search's id), schema
 * version {@link ResultSchemas#VERSION}; columns are documented in the README.
 */
public final class SearchSchemas {
  public static final Schema SENSITIVITY = SchemaBuilder.record("sensitivity").namespace("dev.bitsweep.results").fields()
      .requiredInt("schema_version")
      .requiredString("layer")
      .requiredString("candidate")
      .requiredString("config_id")
      .requiredString("status")
      .optionalString("error")
      .requiredLong("params")
      .requiredLong("original_bytes")
      .optionalLong("compressed_bytes")
      .optionalDouble("layer_bits")
      .requiredString("metric_name")
      .optionalDouble("metric")
      .optionalDouble("baseline_metric")
      .optionalDouble("delta")
      .optionalDouble("loss")
      .optionalDouble("weight_snr_db")
      .optionalDouble("output_error")
      .requiredBoolean("cached")
      .endRecord();

  public static final Schema PLANS = SchemaBuilder.record("plan").namespace("dev.bitsweep.results").fields()
      .requiredInt("schema_version")
      .requiredString("plan_id")
      .requiredInt("iteration")
      .requiredInt("iterations")
      .requiredString("status")
      .optionalString("note")
      .requiredString("budget")
      .requiredString("metric_name")
      .optionalDouble("baseline_metric")
      .optionalDouble("predicted_metric")
      .optionalDouble("measured_metric")
      .optionalDouble("predicted_budget_loss")
      .requiredBoolean("meets_budget")
      .optionalDouble("bits_per_weight")
      .optionalDouble("predicted_bits_per_weight")
      .optionalLong("layer_bytes")
      .optionalLong("compressed_bytes")
      .optionalDouble("size_ratio")
      .name("layers_per_candidate").type().optional().map().values().intType()
      .optionalString("package_path")
      .optionalString("spec_path")
      .optionalString("coremltools_paths")
      .requiredBoolean("on_frontier")
      .endRecord();

  public static final Schema FRONTIER = SchemaBuilder.record("frontier").namespace("dev.bitsweep.results").fields()
      .requiredInt("schema_version")
      .requiredString("kind")
      .requiredString("config_id")
      .requiredString("metric_name")
      .optionalDouble("metric")
      .optionalDouble("bits_per_weight")
      .optionalLong("compressed_bytes")
      .requiredBoolean("meets_budget")
      .requiredBoolean("on_frontier")
      .endRecord();

  private SearchSchemas() {}
}
