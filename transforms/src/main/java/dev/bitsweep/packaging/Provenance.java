package dev.bitsweep.packaging;

import dev.bitsweep.layer.SkippedTensor;
import java.util.List;
import java.util.Map;

/**
 * What a package's manifest records about where it came from.
 *
 * @param config the exact config, as its description (global, op_types, layers)
 * @param calibrationDataSha256 null when the sweep had no calibration data
 * @param skipped the model's tensors that no config compresses, and why
 */
public record Provenance(String bitsweepVersion, String sweepId, String configId, String modelPath,
    String modelSha256, long modelBytes, String evalDataSha256, String calibrationDataSha256,
    Map<String, Object> config, List<SkippedTensor> skipped) {
  public Provenance {
    skipped = List.copyOf(skipped);
  }
}
