package dev.bitsweep.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.OutputComparison;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.results.ResultSchemas;
import dev.bitsweep.spec.SweepConfig;
import java.nio.file.Path;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/** Builds the rows of the results tables ({@link ResultSchemas}) from a config's package and evaluation. */
public final class ResultRows {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ResultRows() {}

  static GenericRecord run(SweepPlan plan, SweepConfig config, PackagedModel packaged, EvalSummary summary) {
    GenericRecord row = new GenericData.Record(ResultSchemas.RUNS);
    row.put("schema_version", ResultSchemas.VERSION);
    row.put("config_id", config.configId());
    row.put("model", Path.of(plan.modelPath()).getFileName().toString());
    row.put("model_sha256", plan.modelSha256());
    row.put("task", plan.task().label());
    row.put("method", config.global() == null ? "mixed" : config.global().method());
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
    row.put("eval_samples", c == null ? 0 : (int) c.samples());
    row.put("runtime", ModelRunner.RUNTIME);
    row.put("runtime_settings", ModelRunner.SETTINGS);
    row.put("compress_seconds", packaged.compressSeconds());
    row.put("package_seconds", packaged.packageSeconds());
    row.put("eval_seconds", evaluated ? summary.seconds() : null);
    row.put("eval_session_seconds", evaluated ? summary.sessionSeconds() : null);
    row.put("eval_run_seconds", evaluated ? summary.runSeconds() : null);
    row.put("package_path", packaged.ok() ? Path.of("packages", config.configId(), "model.onnx").toString() : null);
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
    return row;
  }

  private static String evaluationError(EvalSummary summary) {
    return summary == null ? "evaluation produced no result" : summary.error();
  }
}
