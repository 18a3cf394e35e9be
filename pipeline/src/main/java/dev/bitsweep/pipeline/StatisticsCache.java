package dev.bitsweep.pipeline;

import dev.bitsweep.packaging.AtomicFiles;
import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.calibrate.HessianFile;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.activations.ActivationHistogram;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.StandardCopyOption;
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
 * Calibration statistics on disk, one file per Hessian under {@code <out>/.cache/statistics/<key>/}, where the key
 * hashes the model's sha256, the calibration data's sha256, the sample count and the file format: whatever else a
 * sweep changes (configs, eval data, thresholds), the statistics of a layer stay the same. A Hessian is named by the
 * first layer of the model that reads its input; layers sharing that input read the same file. Files are
 * {@link HessianFile}s, streamed (a Hessian reaches a gigabyte, never held twice) and written atomically, so a file
 * that exists is complete.
 *
 * <p>While a statistics job runs, its partial sums wait under the sweep's staging directory
 * ({@code <staging>/statistics-partials/<hessian file>/chunk-<k>.partial}): too big to travel as records through a
 * shuffle, so only their paths do.
 */
public final class StatisticsCache {
  /** Changes whenever the files' format does, so that a cache of another format is never read. */
  private static final String FORMAT = "hessian-file-2";

  private StatisticsCache() {}

  public static Path directory(Path out, String modelSha256, String calibrationSha256, int samples) {
    return directory(out, modelSha256, calibrationSha256, samples, "");
  }

  /**
   * @param layout the input layout the statistics were captured with ({@code InputLayout.identity}: values, batch
   *     axes, states change the activations); empty for plain files
   */
  public static Path directory(Path out, String modelSha256, String calibrationSha256, int samples, String layout) {
    String identity = modelSha256 + "|" + calibrationSha256 + "|" + samples + (layout.isEmpty() ? "" : "|" + layout)
        + "|" + FORMAT;
    return out.resolve(".cache").resolve("statistics").resolve(sha256(identity).substring(0, 16));
  }

  /** The file of one Hessian: its name made file-safe, plus a hash so that distinct names never collide. */
  public static Path file(Path directory, String hessian) {
    String safe = hessian.replaceAll("[^A-Za-z0-9._-]", "_");
    if (safe.length() > 80) {
      safe = safe.substring(0, 80);
    }
    return directory.resolve(safe + "-" + sha256(hessian).substring(0, 8) + ".stats");
  }

  public static boolean holdsAll(Path directory, Collection<String> hessians) {
    return missing(directory, hessians).isEmpty();
  }

  /** The Hessians whose file is not (yet) in {@code directory}. */
  public static List<String> missing(Path directory, Collection<String> hessians) {
    return hessians.stream().filter(hessian -> !Files.isRegularFile(file(directory, hessian))).toList();
  }

  public static void write(Path directory, HessianAccumulator sum) {
    try {
      writeStreamed(file(directory, sum.layer()), sum);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write calibration statistics of " + sum.layer() + " to " + directory, e);
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

  /** The statistics of a Hessian, named as {@link #file} names it. */
  public static LayerStatistics read(Path directory, String hessian) {
    Path file = file(directory, hessian);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
      LayerStatistics statistics = HessianFile.readStatistics(in);
      if (!statistics.layer().equals(hessian)) {
        throw new IllegalStateException(file + " holds statistics of " + statistics.layer() + ", not " + hessian
            + "; delete " + directory + " to recompute them");
      }
      return statistics;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read cached calibration statistics " + file + " (" + e.getMessage()
          + "); delete " + directory + " to recompute them", e);
    }
  }

  /** The file of the partial sum of {@code hessian} over chunk {@code chunk} of one statistics job. */
  public static Path partialFile(Path staging, String hessian, int chunk) {
    Path hessianFile = file(staging.resolve("statistics-partials"), hessian);
    return hessianFile.resolveSibling(hessianFile.getFileName().toString().replace(".stats", ""))
        .resolve("chunk-" + chunk + ".partial");
  }

  /** Writes a partial sum atomically; a retry rewrites the same bits. */
  public static void writePartial(Path file, HessianAccumulator partial) {
    try {
      writeStreamed(file, partial);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write partial calibration statistics to " + file, e);
    }
  }

  public static HessianAccumulator readPartial(Path file) {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
      return HessianFile.read(in);
    } catch (IOException e) {
      throw new IllegalStateException(partialError(file, e), e);
    }
  }

  /** Sums a partial into {@code sum}, streaming: only {@code sum} is in memory. */
  public static void addPartial(HessianAccumulator sum, Path file) {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
      HessianFile.add(sum, in);
    } catch (IOException e) {
      throw new IllegalStateException(partialError(file, e), e);
    }
  }

  private static String partialError(Path file, IOException e) {
    return "cannot read partial calibration statistics " + file + " (" + e.getMessage()
        + "); is the staging directory shared by every worker?";
  }

  private static void writeStreamed(Path file, HessianAccumulator sum) throws IOException {
    Files.createDirectories(file.getParent());
    Path temp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
        + Thread.currentThread().getId());
    try (OutputStream stream = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 20)) {
      HessianFile.write(sum, stream);
    }
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
