package dev.bitsweep.search;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Measured one-layer results keyed by (model, data, candidate, layer): {@code <out>/.cache/sensitivity/<sha>.json}.
 * The key holds everything the measurement depends on: the model's and data's sha256, the evaluated samples, the task,
 * the calibration data and samples, the candidate's exact fields and the layer name (a candidate id alone could be
 * reused for another config). A rerun, or a wider search over the same inputs, measures only what is missing.
 */
final class SensitivityCache {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path directory;
  private final String inputs;

  /** @param inputs everything but the candidate and layer that the measurement depends on */
  SensitivityCache(Path out, String inputs) {
    this.directory = out.resolve(".cache").resolve("sensitivity");
    this.inputs = inputs;
  }

  /** One measurement: the run's metrics and, for one-layer configs, the layer's row. */
  record Entry(Map<String, Object> values) {}

  private Path file(Map<String, Object> candidateFields, String layer) {
    String key = inputs + "|" + new TreeMap<>(candidateFields) + "|" + layer;
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return directory.resolve(HexFormat.of().formatHex(digest) + ".json");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @SuppressWarnings("unchecked")
  Optional<Map<String, Object>> get(Map<String, Object> candidateFields, String layer) {
    Path file = file(candidateFields, layer);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(file.toFile(), Map.class));
    } catch (IOException e) {
      return Optional.empty(); // an unreadable entry is measured again
    }
  }

  void put(Map<String, Object> candidateFields, String layer, Map<String, Object> values) {
    Path file = file(candidateFields, layer);
    try {
      Files.createDirectories(directory);
      Path temp = Files.createTempFile(directory, "entry", ".tmp");
      JSON.writeValue(temp.toFile(), values);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the sensitivity cache entry " + file, e);
    }
  }
}
