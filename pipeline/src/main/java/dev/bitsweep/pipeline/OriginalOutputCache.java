package dev.bitsweep.pipeline;

import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.packaging.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.zip.CRC32;

/**
 * The original model's first output for one evaluation batch, on disk under
 * {@code <out>/.cache/original-outputs/}, so that the original runs once per batch for a whole sweep (and not at
 * all on a rerun) instead of once per package. A file's name hashes its identity: the model's sha256, the eval
 * data's sha256, the batch's sample range and the session settings; the file repeats that identity and ends with a
 * CRC32 of its contents, so a file that is truncated, corrupt or not the one asked for is recomputed (and
 * rewritten), never used. Files are written atomically (temporary file, then rename).
 *
 * <p>Within a worker JVM the first task that needs a batch computes it and the others wait for it; workers in
 * different JVMs may both compute a missing batch once (the same bytes; the last rename wins).
 */
public final class OriginalOutputCache {
  private static final int MAGIC = 0x6253_4f4f; // "bSOO"
  private static final int FORMAT = 1;
  private static final Map<String, Object> LOCKS = new ConcurrentHashMap<>();
  private static final AtomicLong COMPUTED = new AtomicLong();

  private OriginalOutputCache() {}

  public static Path directory(Path out) {
    return out.resolve(".cache").resolve("original-outputs");
  }

  /** What identifies one batch's original output. */
  public static String identity(String modelSha256, String dataSha256, int from, int to, String settings) {
    return "model=" + modelSha256 + "|data=" + dataSha256 + "|samples=" + from + "-" + to + "|session=" + settings;
  }

  public static Path file(Path directory, String identity) {
    return directory.resolve(sha256(identity).substring(0, 32) + ".out");
  }

  /**
   * The cached output of {@code identity}, or {@code compute}'s, which is then cached. Tasks of one JVM asking for
   * the same batch at the same time compute it once.
   */
  public static ModelRunner.Output get(Path directory, String identity, Supplier<ModelRunner.Output> compute) {
    Path file = file(directory, identity);
    ModelRunner.Output output = read(file, identity);
    if (output != null) {
      return output;
    }
    synchronized (LOCKS.computeIfAbsent(file.toString(), k -> new Object())) {
      output = read(file, identity);
      if (output == null) {
        output = compute.get();
        COMPUTED.incrementAndGet();
        write(file, identity, output);
      }
      return output;
    }
  }

  /** How many batches this JVM has computed (not read from the cache) since it started; for tests and benches. */
  public static long computed() {
    return COMPUTED.get();
  }

  static void write(Path file, String identity, ModelRunner.Output output) {
    try {
      Files.createDirectories(file.getParent());
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + output.values().length * 4);
      DataOutputStream data = new DataOutputStream(bytes);
      data.writeInt(MAGIC);
      data.writeInt(FORMAT);
      data.writeUTF(identity);
      data.writeInt(output.shape().length);
      for (long dimension : output.shape()) {
        data.writeLong(dimension);
      }
      data.writeInt(output.values().length);
      ByteBuffer values = ByteBuffer.allocate(output.values().length * 4).order(ByteOrder.LITTLE_ENDIAN);
      values.asFloatBuffer().put(output.values());
      data.write(values.array());
      data.flush();
      CRC32 crc = new CRC32();
      crc.update(bytes.toByteArray());
      data.writeLong(crc.getValue());
      data.flush();
      AtomicFiles.write(file, bytes.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the original model's outputs to " + file, e);
    }
  }

  /** The output stored in {@code file} for {@code identity}; null if absent, unreadable, corrupt or another's. */
  static ModelRunner.Output read(Path file, String identity) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) { // absent or unreadable: computed again
      return null;
    }
    if (bytes.length < 8) {
      return null;
    }
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, bytes.length - 8);
    if (crc.getValue() != ByteBuffer.wrap(bytes, bytes.length - 8, 8).getLong()) {
      return null;
    }
    try (InputStream in = new java.io.ByteArrayInputStream(bytes, 0, bytes.length - 8);
        DataInputStream data = new DataInputStream(in)) {
      if (data.readInt() != MAGIC || data.readInt() != FORMAT || !data.readUTF().equals(identity)) {
        return null;
      }
      long[] shape = new long[data.readInt()];
      long elements = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = data.readLong();
        elements *= shape[i];
      }
      int count = data.readInt();
      if (count != elements || data.available() != count * 4L) {
        return null;
      }
      byte[] raw = data.readNBytes(count * 4);
      float[] values = new float[count];
      ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
      return new ModelRunner.Output(values, shape);
    } catch (EOFException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
