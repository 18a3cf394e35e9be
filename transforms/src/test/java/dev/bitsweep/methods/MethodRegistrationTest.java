package dev.bitsweep.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.compress.DenseWeights;
import dev.bitsweep.compress.FieldReader;
import dev.bitsweep.compress.WeightMatrix;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A method the product does not have, registered in one line and run through everything that reads the registry. */
class MethodRegistrationTest {

  /** Test-only method: rounds every weight to a multiple of {@code step}. */
  record SnapConfig(double step) implements CompressionConfig {
    static final ResultColumn STEP = new ResultColumn("step", ResultColumn.Type.DOUBLE);

    SnapConfig {
      if (!(step > 0)) {
        throw new ConfigException("step", "must be > 0, got " + step);
      }
    }

    static SnapConfig fromFields(Map<String, Object> fields) {
      FieldReader reader = new FieldReader("snap", fields, List.of("method", "step"));
      return new SnapConfig(FieldReader.orElse(reader.number("step"), 0.5));
    }

    @Override
    public String method() {
      return "snap";
    }

    @Override
    public Map<String, Object> fields() {
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("method", "snap");
      fields.put("step", step);
      return fields;
    }

    static Compression snap(SnapConfig config, WeightMatrix w, double[] hessian, String layer) {
      float[] values = w.values().clone();
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (Math.rint(values[i] / config.step) * config.step);
      }
      return Compression.of(new DenseWeights(new WeightMatrix(values, w.rows(), w.cols())));
    }
  }

  private static final MethodRegistry REGISTRY = Methods.ALL.with(new Method<>("snap", SnapConfig.class, SnapConfig::fromFields, SnapConfig::snap, (c, weights, rows, cols) -> weights * 1e-6, (c, id) -> id.add("q" + c.step()), List.of(SnapConfig.STEP, ResultColumn.NBITS)));

  @Test
  void oneRegistrationLineReachesParseCompressCostNameAndColumns() {
    CompressionConfig config = REGISTRY.parse(Map.of("method", "snap", "step", 0.25));
    assertEquals(new SnapConfig(0.25), config);
    assertEquals(config, REGISTRY.parse(config.fields()));

    WeightMatrix w = new WeightMatrix(new float[] {0.1f, 0.2f, -0.4f, 0.9f}, 2, 2);
    Compression compressed = REGISTRY.compress(config, w, null, "layer fc");
    assertArrayEquals(new float[] {0f, 0.25f, -0.5f, 1f}, compressed.weights().decompress().values());
    assertEquals(null, compressed.percdampUsed());

    assertEquals(4 * MethodRegistry.SECONDS_PER_WEIGHT + 4 * 1e-6, REGISTRY.estimatedSeconds(config, 4, 2, 2), 1e-15);
    assertEquals("snap-q0.25", REGISTRY.name(config));

    // a known column keeps its catalog place; a new one follows the catalog
    List<ResultColumn> columns = REGISTRY.resultColumns();
    assertEquals(Methods.ALL.resultColumns(), columns.subList(0, columns.size() - 1));
    assertEquals(SnapConfig.STEP, columns.get(columns.size() - 1));
    Map<String, Object> values = new LinkedHashMap<>();
    values.put("step", 0.25);
    values.put("nbits", null);
    assertEquals(values, REGISTRY.resultValues(config));

    // the product's registry does not know it
    ConfigException unknown = assertThrows(ConfigException.class,
        () -> Methods.ALL.parse(Map.of("method", "snap", "step", 0.25)));
    assertTrue(unknown.getMessage().startsWith("method: unknown method 'snap'"), unknown.getMessage());
  }

  @Test
  void aNameIsRegisteredOnceAndAColumnHasOneType() {
    Method<SnapConfig> twice = new Method<>("palettize", SnapConfig.class, SnapConfig::fromFields, SnapConfig::snap,
        (c, weights, rows, cols) -> 0, (c, id) -> {}, List.of());
    assertThrows(IllegalArgumentException.class, () -> Methods.ALL.with(twice));
    Method<SnapConfig> conflicting = new Method<>("snap", SnapConfig.class, SnapConfig::fromFields, SnapConfig::snap,
        (c, weights, rows, cols) -> 0, (c, id) -> {}, List.of(new ResultColumn("nbits", ResultColumn.Type.STRING)));
    assertThrows(IllegalArgumentException.class, () -> Methods.ALL.with(conflicting));
  }

  /** Every product method: its configs round-trip through the registry, and each fills only its own columns. */
  @Test
  void productMethodsColumnsAndCosts() {
    assertEquals(List.of("palettize", "linear_quantize", "prune", "rtn", "gptq", "sparsegpt"), Methods.ALL.names());
    assertEquals(ResultColumn.CATALOG, Methods.ALL.resultColumns());
    CompressionConfig gptq = Methods.ALL.parse(Map.of("method", "gptq", "nbits", 4, "group_size", 128));
    assertEquals(Map.of("nbits", 4, "group_size", 128, "lazy_batch_size", 128), Methods.ALL.resultValues(gptq));
    CompressionConfig prune = Methods.ALL.parse(Map.of("method", "prune", "prune_block_size", 4));
    Map<String, Object> pruneValues = Methods.ALL.resultValues(prune);
    assertEquals(4, pruneValues.get("prune_block_size"));
    assertEquals(false, pruneValues.containsKey("block_size"));
    // SparseGPT is priced like GPTQ because both run the column sweep; RTN is not
    CompressionConfig sparseGpt = Methods.ALL.parse(Map.of("method", "sparsegpt", "target_sparsity", 0.5));
    CompressionConfig rtn = Methods.ALL.parse(Map.of("method", "rtn", "nbits", 4));
    double base = 1024 * 1024 * MethodRegistry.SECONDS_PER_WEIGHT;
    assertEquals(base + 1024.0 * 1024 * 1024 * 5e-11, Methods.ALL.estimatedSeconds(sparseGpt, 1024 * 1024, 1024, 1024),
        1e-12);
    assertEquals(base, Methods.ALL.estimatedSeconds(rtn, 1024 * 1024, 1024, 1024), 1e-12);
  }
}
