package dev.bitsweep.pipeline;

import dev.bitsweep.packaging.AtomicFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * What a killed sweep had finished, so that rerunning it resumes: every successfully compressed (config, layer)
 * and every evaluated (package, batch), under {@code <out>/.cache/resume/<sweep_id>/}. Each entry's file name is
 * the SHA-256 of everything the result depends on (bitsweep version, model and data sha256, the config, the layer or
 * the batch), and its content is {@code length, sha256, payload}: written atomically (temp file, then rename), so a
 * killed or retried task never leaves a partial entry, and checked when read, so a damaged one is recomputed. A
 * finished, published sweep removes its entries; {@code --fresh} ignores them.
 */
public final class ResumeCache {
  static final String REUSED_COMPRESS = "reused-compress";
  static final String REUSED_EVALUATE = "reused-evaluate";

  private ResumeCache() {}

  /** {@code <out>/.cache/resume/<sweep_id>}, from the staging area {@code <out>/.staging/<name>}. */
  static Path directory(String stagingDir, String sweepId) {
    Path out = Path.of(stagingDir).getParent().getParent();
    return OutPaths.inside(out.resolve(".cache").resolve("resume"), sweepId);
  }

  static String compressKey(SweepPlan plan, LayerTask task) {
    return sha256(String.join("|", "compress", plan.bitsweepVersion(), plan.modelSha256(),
        String.valueOf(plan.calibrationDataSha256()), plan.sweepId(), task.layer().name(),
        task.layer().shapeText(), task.config().method(), json(task.config().fields())));
  }

  static String evaluateKey(SweepPlan plan, String configId, int batch) {
    return sha256(String.join("|", "evaluate", plan.bitsweepVersion(), plan.modelSha256(),
        String.valueOf(plan.calibrationDataSha256()), plan.evalDataSha256(), plan.sweepId(), String.valueOf(plan.task()),
        configId, plan.batchStart(batch) + "-" + plan.batchEnd(batch)));
  }

  static CompressedLayer compressed(SweepPlan plan, LayerTask task) {
    CompressedLayer found = read(entry(plan, "compressed", compressKey(plan, task)), CompressedLayer.class);
    return found != null && found.configId().equals(task.configId()) && found.layer().name().equals(task.layer().name())
        && !found.failed() ? found : null;
  }

  static void storeCompressed(SweepPlan plan, LayerTask task, CompressedLayer layer) {
    if (!layer.failed()) {
      write(entry(plan, "compressed", compressKey(plan, task)), layer);
    }
  }

  static EvalPartial evaluated(SweepPlan plan, EvalTask task) {
    EvalPartial found = read(entry(plan, "evaluated", evaluateKey(plan, task.configId(), task.batch())),
        EvalPartial.class);
    return found != null && found.batch() == task.batch() && found.error() == null ? found : null;
  }

  static void storeEvaluated(SweepPlan plan, EvalTask task, EvalPartial partial) {
    if (partial.error() == null) {
      write(entry(plan, "evaluated", evaluateKey(plan, task.configId(), task.batch())), partial);
    }
  }

  /** Removes a sweep's entries (after it was published, or for {@code --fresh}). */
  static void clear(Path out, String sweepId) throws IOException {
    Publisher.deleteRecursively(OutPaths.inside(out.resolve(".cache").resolve("resume"), sweepId));
  }

  private static Path entry(SweepPlan plan, String kind, String key) {
    return directory(plan.stagingDir(), plan.sweepId()).resolve(kind).resolve(key);
  }

  /** Best effort: a result that cannot be kept is only recomputed on a rerun. */
  static void write(Path file, Serializable value) {
    try {
      ByteArrayOutputStream payload = new ByteArrayOutputStream();
      try (ObjectOutputStream objects = new ObjectOutputStream(payload)) {
        objects.writeObject(value);
      }
      byte[] bytes = payload.toByteArray();
      ByteBuffer framed = ByteBuffer.allocate(8 + 32 + bytes.length);
      framed.putLong(bytes.length).put(digest(bytes)).put(bytes);
      Files.createDirectories(file.getParent());
      AtomicFiles.write(file, framed.array());
    } catch (IOException | RuntimeException e) {
      // the sweep's results never depend on the resume cache
    }
  }

  /** The entry's value, or null when it is absent, damaged (then deleted) or of another type. */
  static <T> T read(Path file, Class<T> type) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      byte[] framed = Files.readAllBytes(file);
      ByteBuffer buffer = ByteBuffer.wrap(framed);
      if (framed.length < 40 || buffer.getLong() != framed.length - 40) {
        throw new IOException("wrong length");
      }
      byte[] expected = new byte[32];
      buffer.get(expected);
      byte[] payload = Arrays.copyOfRange(framed, 40, framed.length);
      if (!Arrays.equals(expected, digest(payload))) {
        throw new IOException("wrong sha256");
      }
      try (ObjectInputStream objects = new ObjectInputStream(new ByteArrayInputStream(payload))) {
        Object value = objects.readObject();
        return type.isInstance(value) ? type.cast(value) : null;
      }
    } catch (IOException | ClassNotFoundException | RuntimeException e) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // recomputed and rewritten anyway
      }
      return null;
    }
  }

  private static byte[] digest(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper()
      .enable(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  /** The same text for the same fields in every JVM (no identity hash codes of arrays). */
  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha256(String text) {
    return HexFormat.of().formatHex(digest(text.getBytes(StandardCharsets.UTF_8)));
  }

}
