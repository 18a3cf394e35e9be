package dev.bitsweep.pipeline;

import dev.bitsweep.packaging.AtomicFiles;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.activations.ActivationHistogram;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Calibration statistics on disk, one file per layer under {@code <out>/.cache/statistics/<key>/}, where the key
 * hashes the model's sha256, the calibration data's sha256 and the sample count: whatever else a sweep changes
 * (configs, eval data, thresholds), the statistics of a layer stay the same. Files are written atomically, so a
 * file that exists is complete.
 */
public final class StatisticsCache {
  private StatisticsCache() {}

  public static Path directory(Path out, String modelSha256, String calibrationSha256, int samples) {
    return directory(out, modelSha256, calibrationSha256, samples, "");
  }

  /**
   * @param layout the input layout the statistics were captured with ({@code InputLayout.identity}: values, batch
   *     axes, states change the activations); empty for plain files
   */
  public static Path directory(Path out, String modelSha256, String calibrationSha256, int samples, String layout) {
    String identity = modelSha256 + "|" + calibrationSha256 + "|" + samples + (layout.isEmpty() ? "" : "|" + layout);
    return out.resolve(".cache").resolve("statistics").resolve(sha256(identity).substring(0, 16));
  }

  /** The file of one layer: its name made file-safe, plus a hash so that distinct names never collide. */
  public static Path file(Path directory, String layer) {
    String safe = layer.replaceAll("[^A-Za-z0-9._-]", "_");
    if (safe.length() > 80) {
      safe = safe.substring(0, 80);
    }
    return directory.resolve(safe + "-" + sha256(layer).substring(0, 8) + ".stats");
  }

  public static boolean holdsAll(Path directory, Collection<String> layers) {
    return missing(directory, layers).isEmpty();
  }

  /** The layers whose statistics file is not (yet) in {@code directory}. */
  public static List<String> missing(Path directory, Collection<String> layers) {
    return layers.stream().filter(layer -> !Files.isRegularFile(file(directory, layer))).toList();
  }

  public static void write(Path directory, LayerStatistics statistics) {
    try {
      Files.createDirectories(directory);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
        out.writeObject(statistics);
      }
      AtomicFiles.write(file(directory, statistics.layer()), bytes.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write calibration statistics of " + statistics.layer() + " to "
          + directory, e);
    }
  }

  /**
   * The file of the activation histograms (all tensors of a {@link dev.bitsweep.activations.QdqPlan} in one map):
   * keyed like the layers' files by model, data and samples, and by the tensor list, so that another set of
   * tensors does not read a stale map.
   */
  public static Path activationsFile(Path directory, Collection<String> tensors) {
    return directory.resolve("activations-" + sha256(String.join("\n", tensors)).substring(0, 12) + ".hist");
  }

  public static void writeActivations(Path directory, Collection<String> tensors,
      Map<String, ActivationHistogram> histograms) {
    try {
      Files.createDirectories(directory);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
        out.writeObject(new TreeMap<>(histograms));
      }
      AtomicFiles.write(activationsFile(directory, tensors), bytes.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write activation histograms to " + directory, e);
    }
  }

  @SuppressWarnings("unchecked")
  public static Map<String, ActivationHistogram> readActivations(Path directory, Collection<String> tensors) {
    Path file = activationsFile(directory, tensors);
    try (InputStream in = Files.newInputStream(file); ObjectInputStream objects = new ObjectInputStream(in)) {
      return (Map<String, ActivationHistogram>) objects.readObject();
    } catch (IOException | ClassNotFoundException | ClassCastException e) {
      throw new IllegalStateException("cannot read cached activation histograms " + file + " (" + e.getMessage()
          + "); delete " + directory + " to recompute them", e);
    }
  }

  public static LayerStatistics read(Path directory, String layer) {
    Path file = file(directory, layer);
    try (InputStream in = Files.newInputStream(file); ObjectInputStream objects = new ObjectInputStream(in)) {
      LayerStatistics statistics = (LayerStatistics) objects.readObject();
      if (!statistics.layer().equals(layer)) {
        throw new IllegalStateException(file + " holds statistics of " + statistics.layer() + ", not " + layer
            + "; delete " + directory + " to recompute them");
      }
      return statistics;
    } catch (IOException | ClassNotFoundException e) {
      throw new IllegalStateException("cannot read cached calibration statistics " + file + " (" + e.getMessage()
          + "); delete " + directory + " to recompute them", e);
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
