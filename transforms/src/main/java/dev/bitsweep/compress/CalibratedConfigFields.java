package dev.bitsweep.compress;

import dev.bitsweep.calibrate.GptqConfig;
import dev.bitsweep.calibrate.SparseGptConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * YAML fields of the calibration methods {@code gptq} and {@code sparsegpt}; absent fields take the configs'
 * defaults. Their {@code fields()} leave out the method key, so {@link #withMethod} puts it back for manifests and
 * for the round trip {@code fromFields(withMethod(c)).equals(c)}.
 */
public final class CalibratedConfigFields {
  public static final String GPTQ = "gptq";
  public static final String SPARSEGPT = "sparsegpt";
  static final List<String> GPTQ_FIELDS = List.of("method", "nbits", "group_size", "symmetric", "block_size",
      "percdamp", "act_order");
  static final List<String> SPARSEGPT_FIELDS = List.of("method", "target_sparsity", "n_m_ratio", "nbits",
      "symmetric", "block_size", "percdamp");

  private CalibratedConfigFields() {}

  static GptqConfig gptq(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(GPTQ, fields, GPTQ_FIELDS);
    Integer nbits = reader.integer("nbits");
    if (nbits == null) {
      throw new ConfigException("nbits", "is required for method gptq (2..8 bits per weight)");
    }
    return new GptqConfig(nbits, orElse(reader.integer("group_size"), 0), orElse(reader.bool("symmetric"), true),
        orElse(reader.integer("block_size"), GptqConfig.DEFAULT_BLOCK_SIZE),
        orElse(reader.number("percdamp"), GptqConfig.DEFAULT_PERCDAMP), orElse(reader.bool("act_order"), false));
  }

  static SparseGptConfig sparseGpt(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(SPARSEGPT, fields, SPARSEGPT_FIELDS);
    List<Integer> nm = reader.integers("n_m_ratio");
    Double sparsity = reader.number("target_sparsity");
    int n = 0;
    int m = 0;
    if (nm != null) {
      if (nm.size() != 2) {
        throw new ConfigException("n_m_ratio", "must be two integers [n, m] (n of every m weights pruned), got " + nm);
      }
      n = nm.get(0);
      m = nm.get(1);
      if (sparsity == null && m > 0) {
        sparsity = (double) n / m;
      }
    }
    if (sparsity == null) {
      throw new ConfigException("target_sparsity", "is required for method sparsegpt (or give n_m_ratio [n, m])");
    }
    return new SparseGptConfig(sparsity, n, m, orElse(reader.integer("nbits"), 0),
        orElse(reader.bool("symmetric"), true), orElse(reader.integer("block_size"), SparseGptConfig.DEFAULT_BLOCK_SIZE),
        orElse(reader.number("percdamp"), SparseGptConfig.DEFAULT_PERCDAMP));
  }

  /** {@code config.fields()} with {@code method} first (added when the config leaves it out). */
  public static Map<String, Object> withMethod(CompressionConfig config) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("method", config.method());
    fields.putAll(config.fields());
    return fields;
  }

  private static <T> T orElse(T value, T fallback) {
    return value == null ? fallback : value;
  }
}
