package dev.bitsweep.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.compress.PalettizeConfig;
import dev.bitsweep.compress.Palettizer;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.methods.Methods;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The calibration methods as YAML fields: parsing, defaults, round trips, and which need statistics. */
class CalibratedMethodsTest {

  private static Map<String, Object> fields(Object... keyValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      map.put((String) keyValues[i], keyValues[i + 1]);
    }
    return map;
  }

  @Test
  void gptqFieldsWithDefaultsAndRoundTrip() {
    CompressionConfig config = Methods.ALL.parse(fields("method", "gptq", "nbits", 3, "group_size", 32));
    assertEquals(new GptqConfig(3, 32, true, 128, 0.01, false), config);
    assertTrue(config.needsCalibration());
    assertEquals(config, Methods.ALL.parse(config.fields()));
    CompressionConfig tuned = Methods.ALL.parse(fields("method", "gptq", "nbits", 4, "symmetric", false,
        "act_order", true, "percdamp", 0.1, "lazy_batch_size", 64));
    assertEquals(new GptqConfig(4, 0, false, 64, 0.1, true), tuned);
    assertEquals(tuned, Methods.ALL.parse(tuned.fields()));
  }

  @Test
  void sparseGptFieldsUnstructuredAndNOfM() {
    CompressionConfig unstructured = Methods.ALL.parse(fields("method", "sparsegpt", "target_sparsity", 0.5));
    assertEquals(SparseGptConfig.unstructured(0.5), unstructured);
    CompressionConfig twoOfFour = Methods.ALL.parse(fields("method", "sparsegpt", "n_m_ratio", List.of(2, 4),
        "nbits", 4));
    assertEquals(SparseGptConfig.nOfM(2, 4).withQuantization(4, true), twoOfFour);
    for (CompressionConfig config : List.of(unstructured, twoOfFour)) {
      assertTrue(config.needsCalibration());
      assertEquals(config, Methods.ALL.parse(config.fields()));
    }
  }

  @Test
  void missingOrUnknownFieldsAreNamed() {
    assertEquals("nbits", assertThrows(ConfigException.class,
        () -> Methods.ALL.parse(fields("method", "gptq"))).field());
    assertEquals("target_sparsity", assertThrows(ConfigException.class,
        () -> Methods.ALL.parse(fields("method", "sparsegpt"))).field());
    ConfigException typo = assertThrows(ConfigException.class,
        () -> Methods.ALL.parse(fields("method", "gptq", "nbits", 4, "groupsize", 32)));
    assertTrue(typo.getMessage().contains("did you mean 'group_size'"), typo.getMessage());
    assertEquals("sensitivity", assertThrows(ConfigException.class, () -> Methods.ALL.parse(
        fields("method", "palettize", "mode", "uniform", "sensitivity", "hessian"))).field());
  }

  @Test
  void hessianSensitivityNeedsCalibrationAndWeighsByTheHessianDiagonal() {
    PalettizeConfig plain = (PalettizeConfig) Methods.ALL.parse(fields("method", "palettize", "nbits", 2));
    PalettizeConfig sensitive = (PalettizeConfig) Methods.ALL.parse(
        fields("method", "palettize", "nbits", 2, "sensitivity", "hessian"));
    assertFalse(plain.needsCalibration());
    assertTrue(sensitive.needsCalibration());
    assertEquals("hessian", sensitive.fields().get("sensitivity"));
    assertEquals(sensitive, Methods.ALL.parse(sensitive.fields()));

    Random random = new Random(7);
    int rows = 8;
    int cols = 6;
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    WeightMatrix w = new WeightMatrix(values, rows, cols);
    double[] hessian = new double[cols * cols];
    float[] importance = new float[rows * cols];
    for (int c = 0; c < cols; c++) {
      hessian[c * cols + c] = 1 + c * c;
      for (int r = 0; r < rows; r++) {
        importance[r * cols + c] = 1 + c * c;
      }
    }
    LayerStatistics statistics = new LayerStatistics("w", cols, 1, 10, -1, 1, hessian);
    WeightMatrix viaStatistics = Methods.ALL.compress(sensitive, w, statistics, "w").weights().decompress();
    WeightMatrix viaImportance = Palettizer.palettize(sensitive, w, importance).decompress();
    assertArrayEquals(viaImportance.values(), viaStatistics.values());
    assertThrows(IllegalArgumentException.class, () -> Methods.ALL.compress(sensitive, w, null, "w"));
  }

  /** The registry hands the Hessian to GPTQ and SparseGPT and reports the damping they used. */
  @Test
  void calibratedMethodsReportTheDampingUsed() {
    int cols = 6;
    WeightMatrix w = new WeightMatrix(new float[] {0.1f, -0.7f, 0.3f, 0.9f, -0.2f, 0.5f, 0.4f, 0.05f, -0.4f, 0.8f,
        -0.6f, 0.2f}, 2, cols);
    double[] hessian = new double[cols * cols];
    for (int c = 0; c < cols; c++) {
      hessian[c * cols + c] = 1 + c;
    }
    LayerStatistics statistics = new LayerStatistics("w", cols, 1, 10, -1, 1, hessian);
    GptqConfig gptq = GptqConfig.of(4, 0).withPercdamp(0.05);
    var compressed = Methods.ALL.compress(gptq, w, statistics, "w");
    assertEquals(0.05, compressed.percdampUsed());
    assertArrayEquals(new Gptq(gptq).quantize(w, hessian).weights().decompress().values(),
        compressed.weights().decompress().values());
    assertEquals(0.01, Methods.ALL.compress(SparseGptConfig.unstructured(0.5), w, statistics, "w").percdampUsed());
    assertEquals(null, Methods.ALL.compress(new RoundToNearestConfig(4, 0, true), w, statistics, "w").percdampUsed());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> Methods.ALL.compress(gptq, w, null, "layer fc"));
    assertEquals("layer fc: method gptq needs calibration statistics of the layer's inputs; name calibration_data in "
        + "the sweep spec", missing.getMessage());
  }

  /** Old names of the lazy batch are rejected with the new name. */
  @Test
  void blockSizeNoLongerNamesTheLazyBatch() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> Methods.ALL.parse(fields("method", "sparsegpt", "target_sparsity", 0.5, "block_size", 64)));
    assertEquals("block_size", e.field());
    assertTrue(e.getMessage().contains("lazy_batch_size"), e.getMessage());
  }

  @Test
  void roundToNearestIsGptqsGridWithoutFeedback() {
    CompressionConfig rtn = Methods.ALL.parse(fields("method", "rtn", "nbits", 3, "group_size", 4));
    assertEquals(new RoundToNearestConfig(3, 4, true), rtn);
    assertFalse(rtn.needsCalibration());
    assertEquals(rtn, Methods.ALL.parse(rtn.fields()));
    WeightMatrix w = new WeightMatrix(new float[] {0.1f, -0.7f, 0.3f, 0.9f, -0.2f, 0.5f, 0.05f, -0.4f}, 1, 8);
    assertArrayEquals(RoundToNearest.quantize(w, 3, 4, true).decompress().values(),
        Methods.ALL.compress(rtn, w).weights().decompress().values());
  }
}
