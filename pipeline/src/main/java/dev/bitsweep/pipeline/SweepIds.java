package dev.bitsweep.pipeline;

import dev.bitsweep.spec.SweepConfig;
import dev.bitsweep.spec.SweepSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A sweep's id: its name plus a hash of everything that determines its results (model, data, samples, configs).
 * Rerunning the same sweep gives the same id, so its results replace the earlier ones instead of duplicating them.
 */
public final class SweepIds {
  private SweepIds() {}

  public static String of(SweepSpec spec, String modelSha, String evalSha, String calibrationSha, int samples) {
    return of(spec, modelSha, evalSha, calibrationSha, samples, "");
  }

  /** @param layout the spec's input layout ({@code InputLayout.identity}); empty when every input is a plain file */
  public static String of(SweepSpec spec, String modelSha, String evalSha, String calibrationSha, int samples,
      String layout) {
    StringBuilder identity = new StringBuilder();
    identity.append(modelSha).append('|').append(evalSha).append('|').append(calibrationSha).append('|')
        .append(samples).append('|').append(spec.task()).append('|').append(spec.weightThreshold()).append('|')
        .append(spec.calibrationSamples());
    if (!layout.isEmpty()) {
      identity.append("|inputs=").append(layout);
    }
    for (SweepConfig config : spec.configs()) {
      identity.append('|').append(config.configId()).append('=').append(ConfigDescription.of(config));
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.toString().getBytes(StandardCharsets.UTF_8));
      return spec.name() + "-" + HexFormat.of().formatHex(digest, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
