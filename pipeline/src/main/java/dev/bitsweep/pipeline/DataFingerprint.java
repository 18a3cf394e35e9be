package dev.bitsweep.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** sha256 over a data directory: every regular file's relative path and bytes, in path order. */
public final class DataFingerprint {
  private DataFingerprint() {}

  public static String of(Path directory) {
    try (Stream<Path> walk = Files.walk(directory)) {
      List<Path> files = walk.filter(Files::isRegularFile).sorted().toList();
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (Path file : files) {
        digest.update(directory.relativize(file).toString().getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
        try (InputStream in = Files.newInputStream(file)) {
          for (int n; (n = in.read(buffer)) > 0; ) {
            digest.update(buffer, 0, n);
          }
        }
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read data directory " + directory, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
