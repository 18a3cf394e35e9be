package dev.bitsweep.compress;

import java.util.List;
import java.util.Map;

/** Builds any compression config from its YAML-like fields; the key {@code method} selects the kind. */
public final class CompressionConfigs {
  public static final List<String> METHODS = List.of(PalettizeConfig.METHOD, LinearQuantizeConfig.METHOD,
      PruneConfig.METHOD, RoundToNearestConfig.METHOD, CalibratedConfigFields.GPTQ, CalibratedConfigFields.SPARSEGPT);

  private CompressionConfigs() {}

  /**
   * The inverse of {@link CompressionConfig#fields()}: {@code fromFields(c.fields()).equals(c)}; for gptq and
   * sparsegpt, whose fields leave out the method, {@code fromFields(CalibratedConfigFields.withMethod(c)).equals(c)}.
   */
  public static CompressionConfig fromFields(Map<String, Object> fields) {
    Object method = fields.get("method");
    if (method == null) {
      throw new ConfigException("method", "is required; expected one of " + METHODS);
    }
    if (!(method instanceof String name)) {
      throw new ConfigException("method", "expected one of " + METHODS + " but got " + FieldReader.describe(method));
    }
    return switch (name) {
      case PalettizeConfig.METHOD -> PalettizeConfig.fromFields(fields);
      case LinearQuantizeConfig.METHOD -> LinearQuantizeConfig.fromFields(fields);
      case PruneConfig.METHOD -> PruneConfig.fromFields(fields);
      case RoundToNearestConfig.METHOD -> RoundToNearestConfig.fromFields(fields);
      case CalibratedConfigFields.GPTQ -> CalibratedConfigFields.gptq(fields);
      case CalibratedConfigFields.SPARSEGPT -> CalibratedConfigFields.sparseGpt(fields);
      default -> throw new ConfigException("method", "unknown method '" + name + "'; expected one of " + METHODS
          + Choices.suggestion(name, METHODS));
    };
  }
}
