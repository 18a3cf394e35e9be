package dev.bitsweep.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.compress.NmRatio;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class ConfigTest {

  @Test
  void gptqFieldsIncludeDefaults() {
    GptqConfig config = GptqConfig.of(4, 128);
    assertEquals("gptq", config.method());
    assertTrue(config.needsCalibration());
    assertEquals(List.of("method", "nbits", "group_size", "symmetric", "lazy_batch_size", "percdamp", "act_order",
        "scale_dtype"), List.copyOf(config.fields().keySet()));
    assertEquals(List.of("gptq", 4, 128, true, 128, 0.01, false, "float32"), List.copyOf(config.fields().values()));
  }

  @Test
  void scaleDtypeParsesRoundTripsAndNamesItselfWhenWrong() {
    Map<String, Object> fields = new java.util.HashMap<>(Map.of("method", "gptq", "nbits", 3, "scale_dtype", "float16"));
    GptqConfig gptq = GptqConfig.fromFields(fields);
    assertEquals(dev.bitsweep.compress.ScaleDtype.FLOAT16, gptq.scaleDtype());
    assertEquals(gptq, GptqConfig.fromFields(gptq.fields()));
    RoundToNearestConfig rtn = RoundToNearestConfig.fromFields(Map.of("method", "rtn", "nbits", 5, "scale_dtype", "float16"));
    assertEquals(dev.bitsweep.compress.ScaleDtype.FLOAT16, rtn.scaleDtype());
    assertEquals("float16", rtn.fields().get("scale_dtype"));
    assertField("scale_dtype", () -> RoundToNearestConfig.fromFields(Map.of("method", "rtn", "nbits", 5,
        "scale_dtype", "bf16")));
  }

  @Test
  void gptqRejectsImpossibleFields() {
    assertField("nbits", () -> GptqConfig.of(1, 0));
    assertField("nbits", () -> GptqConfig.of(9, 0));
    assertField("group_size", () -> GptqConfig.of(4, -1));
    assertField("lazy_batch_size", () -> GptqConfig.of(4, 0).withLazyBatchSize(0));
    assertField("percdamp", () -> GptqConfig.of(4, 0).withPercdamp(0));
    assertField("percdamp", () -> GptqConfig.of(4, 0).withPercdamp(Double.NaN));
  }

  @Test
  void sparseGptFieldsIncludeDefaultsAndAbsentOptions() {
    SparseGptConfig unstructured = SparseGptConfig.unstructured(0.5);
    assertEquals("sparsegpt", unstructured.method());
    assertTrue(unstructured.needsCalibration());
    assertEquals(List.of("method", "target_sparsity", "n_m_ratio", "nbits", "symmetric", "lazy_batch_size", "percdamp",
        "scale_dtype"), List.copyOf(unstructured.fields().keySet()));
    assertNull(unstructured.fields().get("n_m_ratio"));
    assertNull(unstructured.fields().get("nbits"));
    SparseGptConfig twoOfFour = SparseGptConfig.nOfM(2, 4).withQuantization(4, false);
    assertEquals(List.of(2, 4), twoOfFour.fields().get("n_m_ratio"));
    assertEquals(0.5, twoOfFour.fields().get("target_sparsity"));
    assertEquals(4, twoOfFour.fields().get("nbits"));
  }

  @Test
  void sparseGptRejectsImpossibleFields() {
    assertField("target_sparsity", () -> SparseGptConfig.unstructured(1.0));
    assertField("target_sparsity", () -> SparseGptConfig.unstructured(-0.1));
    assertField("n_m_ratio", () -> SparseGptConfig.nOfM(4, 4));
    assertField("n_m_ratio", () -> SparseGptConfig.nOfM(0, 4));
    assertField("target_sparsity", () -> new SparseGptConfig(0.5, new NmRatio(1, 4), 0, true, 128, 0.01));
    assertField("lazy_batch_size", () -> SparseGptConfig.nOfM(2, 3));
    assertField("nbits", () -> SparseGptConfig.unstructured(0.5).withQuantization(1, true));
    assertField("percdamp", () -> SparseGptConfig.unstructured(0.5).withPercdamp(2));
  }

  private static void assertField(String field, Executable construction) {
    ConfigException error = assertThrows(ConfigException.class, construction);
    assertEquals(field, error.field(), error.getMessage());
  }
}
