package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.bitsweep.compress.LinearQuantizeConfig;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.eval.OutputComparison;
import dev.bitsweep.results.ResultSchemas;
import dev.bitsweep.spec.SweepConfig;
import dev.bitsweep.spec.SweepSpec;
import java.util.List;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/** The rows of the runs and layers tables, from a config's package and evaluation, including the failed ones. */
class ResultRowsTest {
  private static final SweepPlan PLAN = new SweepPlan("s-1", "/models/net.onnx", "abc", 1000, 13, List.of(),
      "/data/eval", "def", 4, 2, null, SweepSpec.Task.CLASSIFICATION, "/tmp/staging", List.of(), "v-test");
  private static final SweepConfig INT4 = SweepConfig.of("int4", LinearQuantizeConfig.builder()
      .mode(LinearQuantizeConfig.Mode.LINEAR_SYMMETRIC).dtype(QuantDtype.INT4)
      .granularity(LinearQuantizeConfig.Granularity.PER_BLOCK).blockSize(32).build());
  private static final LayerResult LAYER = new LayerResult("int4", "fc.weight", "MatMul", "[16,8]", 128, 512, 80L,
      "quantize/dq", 30.5, 0.0, 1.5e-3, null, 0.25, "ok", null);
  private static final PackagedModel PACKAGED = new PackagedModel("int4", PackagedModel.OK, null,
      "/tmp/staging/packages/int4/model.onnx", 250, 5.0, 1, 0.5, 0.125, List.of(LAYER));

  /** Two samples of three classes, labels 0 and 2: the compressed model gets sample 1 wrong, the original not. */
  private static OutputComparison comparison() {
    float[] original = {3, 1, 0, 0, 1, 3};
    float[] compressed = {3, 1, 0, 0, 4, 3};
    return OutputComparison.of(original, compressed, new long[] {2, 3}, new long[] {0, 2}, null);
  }

  private static GenericRecord valid(GenericRecord row) {
    assertEquals(true, GenericData.get().validate(row.getSchema(), row), "row fits its schema: " + row);
    return row;
  }

  @Test
  void anEvaluatedPackageIsAnOkRowWithItsMetrics() {
    GenericRecord row = valid(ResultRows.run(PLAN, INT4, PACKAGED, new EvalSummary(comparison(), 1, 0.75, null, null, null, null, 0.25,
        0.375)));
    assertEquals(ResultSchemas.RUNS, row.getSchema());
    assertEquals("ok", row.get("status"));
    assertNull(row.get("error"));
    assertEquals("int4", row.get("config_id"));
    assertEquals("net.onnx", row.get("model"));
    assertEquals("linear_quantize", row.get("method"));
    assertEquals("int4", row.get("dtype"));
    assertEquals("per_block", row.get("granularity"));
    assertEquals(32, row.get("block_size"));
    assertEquals(0.25, (Double) row.get("size_ratio"), 0.0);
    assertEquals(250L, row.get("compressed_bytes"));
    assertEquals(0.5, (Double) row.get("accuracy"), 0.0);
    assertEquals(1.0, (Double) row.get("baseline_accuracy"), 0.0);
    assertEquals(0.5, (Double) row.get("agreement"), 0.0);
    assertEquals(2, row.get("eval_samples"));
    assertEquals(0.75, (Double) row.get("eval_seconds"), 0.0);
    assertEquals(0.25, (Double) row.get("eval_session_seconds"), 0.0);
    assertEquals(0.375, (Double) row.get("eval_run_seconds"), 0.0);
    assertEquals("packages/s-1/int4/model.onnx", row.get("package_path"), "the package of this sweep's config");
    assertEquals("v-test", row.get("bitsweep_version"));
  }

  @Test
  void runtimeSettingsRecordTheEvaluationThreads() {
    assertEquals("graph_optimization_level=ALL_OPT; session.disable_quant_qdq=1; intra_op_threads=1",
        ResultRows.run(PLAN, INT4, PACKAGED, null).get("runtime_settings"));
    assertEquals("graph_optimization_level=ALL_OPT; session.disable_quant_qdq=1; intra_op_threads=3",
        ResultRows.run(PLAN, INT4, PACKAGED, null, 3).get("runtime_settings"));
  }

  @Test
  void aFailedPackageIsAFailedRowThatSaysWhy() {
    PackagedModel failed = new PackagedModel("int4", PackagedModel.FAILED, "layer fc.weight: block_size 32 does"
        + " not divide 30", null, 0, null, 0, 0.5, 0.0, List.of());
    GenericRecord row = valid(ResultRows.run(PLAN, INT4, failed, null));
    assertEquals("failed", row.get("status"));
    assertEquals("layer fc.weight: block_size 32 does not divide 30", row.get("error"));
    assertNull(row.get("compressed_bytes"));
    assertNull(row.get("package_path"));
    assertNull(row.get("accuracy"));
    assertEquals(0, row.get("eval_samples"));
  }

  @Test
  void aPackageWhoseEvaluationFailedOrVanishedIsAFailedRow() {
    EvalSummary failed = new EvalSummary(comparison(), 2, 1.0, "evaluation of batch 1 failed: ORT says no");
    GenericRecord row = valid(ResultRows.run(PLAN, INT4, PACKAGED, failed));
    assertEquals("failed", row.get("status"));
    assertEquals("evaluation of batch 1 failed: ORT says no", row.get("error"));
    assertNull(row.get("accuracy"), "partial metrics are not presented as the config's");
    assertNull(row.get("eval_seconds"));
    assertNull(row.get("eval_session_seconds"));
    assertNull(row.get("eval_run_seconds"));
    GenericRecord missing = valid(ResultRows.run(PLAN, INT4, PACKAGED, null));
    assertEquals("failed", missing.get("status"));
    assertEquals("evaluation produced no result", missing.get("error"));
  }

  @Test
  void aLayerRowCopiesItsLayerResult() {
    GenericRecord row = valid(ResultRows.layer(LAYER, 3));
    assertEquals(3, row.get("layer_index"));
    assertEquals(ResultSchemas.LAYERS, row.getSchema());
    assertEquals("fc.weight", row.get("layer"));
    assertEquals(128L, row.get("params"));
    assertEquals(80L, row.get("compressed_bytes"));
    assertEquals("quantize/dq", row.get("encoding"));
    assertEquals(1.5e-3, (Double) row.get("output_error"), 0.0);
    assertEquals("ok", row.get("status"));
  }
}
