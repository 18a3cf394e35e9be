package dev.bitsweep.pipeline;

import dev.bitsweep.compress.CompressedWeights;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.file.NoSuchFileException;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * The compressed layers of a sweep, content-addressed, in {@code <staging>/layers/<sha256>}: a compression task
 * puts its layer here and passes on only the key, so no weight bytes travel through a shuffle; packaging reads each
 * layer back when it writes it. Files go through Beam {@link FileSystems}, so a staging area on a cluster's shared
 * file system or an object store works the same. A layer is written under a unique temporary name and renamed to
 * the SHA-256 of its bytes, so a retried or duplicated task writes the same entry again or finds it there; the
 * store goes away with its staging area.
 */
final class LayerStore {
  static final String DIRECTORY = "layers";

  private LayerStore() {}

  /**
   * Stores {@code weights} (if an equal entry is not there yet) and returns its key.
   *
   * @throws IllegalStateException when the staging area is gone (a stopped sweep removed it; it is not recreated)
   */
  static String put(String stagingDir, CompressedWeights weights) {
    ResourceId dir = directory(stagingDir);
    ResourceId owner = FileSystems.matchNewResource(stagingDir, true)
        .resolve(StagingAreas.OWNER_FILE, StandardResolveOptions.RESOLVE_FILE);
    ResourceId temp = dir.resolve(".tmp-" + UUID.randomUUID(), StandardResolveOptions.RESOLVE_FILE);
    String key;
    try {
      if (!exists(owner)) {
        throw new IllegalStateException("the staging area " + stagingDir + " was removed: the sweep is stopping");
      }
      MessageDigest sha256 = sha256();
      try (OutputStream file = Channels.newOutputStream(FileSystems.create(temp, MimeTypes.BINARY));
          ObjectOutputStream out = new ObjectOutputStream(
              new DigestOutputStream(new BufferedOutputStream(file, 1 << 16), sha256))) {
        out.writeObject(weights);
      }
      key = HexFormat.of().formatHex(sha256.digest());
      ResourceId entry = dir.resolve(key, StandardResolveOptions.RESOLVE_FILE);
      if (exists(entry)) {
        FileSystems.delete(List.of(temp), MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
      } else {
        FileSystems.rename(List.of(temp), List.of(entry));
      }
      return key;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot store a compressed layer in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The weights stored under {@code key}, streamed from the store and checked against the key. */
  static CompressedWeights get(String stagingDir, String key) {
    ResourceId entry = directory(stagingDir).resolve(key, StandardResolveOptions.RESOLVE_FILE);
    MessageDigest sha256 = sha256();
    Object value;
    try (InputStream file = Channels.newInputStream(FileSystems.open(entry));
        InputStream digested = new DigestInputStream(new BufferedInputStream(file, 1 << 16), sha256);
        ObjectInputStream in = new ObjectInputStream(digested)) {
      value = in.readObject();
      digested.transferTo(OutputStream.nullOutputStream());
    } catch (FileNotFoundException | NoSuchFileException e) {
      throw new IllegalStateException("compressed layer " + entry + " is missing from the sweep's staging area (was it"
          + " removed while the sweep ran?); run the sweep again", e);
    } catch (IOException | ClassNotFoundException e) {
      throw damaged(entry, e.toString(), e);
    }
    String actual = HexFormat.of().formatHex(sha256.digest());
    if (!actual.equals(key) || !(value instanceof CompressedWeights weights)) {
      throw damaged(entry, "its sha256 is " + actual, null);
    }
    return weights;
  }

  private static IllegalStateException damaged(ResourceId entry, String why, Exception cause) {
    return new IllegalStateException("compressed layer " + entry + " is damaged (" + why + "); run the sweep again",
        cause);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static ResourceId directory(String stagingDir) {
    return FileSystems.matchNewResource(stagingDir, true).resolve(DIRECTORY, StandardResolveOptions.RESOLVE_DIRECTORY);
  }

  private static boolean exists(ResourceId entry) throws IOException {
    MatchResult match = FileSystems.match(List.of(entry.toString())).get(0);
    return match.status() == MatchResult.Status.OK && !match.metadata().isEmpty();
  }
}
