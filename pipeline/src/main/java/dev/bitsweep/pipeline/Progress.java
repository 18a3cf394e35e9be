package dev.bitsweep.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Progress markers: each finished unit of work leaves an empty file under {@code <staging>/progress/<stage>/},
 * which the launcher counts. Works the same on one machine and on a cluster with a shared filesystem; a retried
 * task rewrites the same marker, so counts never exceed the totals.
 */
public final class Progress {
  private Progress() {}

  static void mark(String stagingDir, String stage, String key) {
    try {
      if (!Files.isDirectory(Path.of(stagingDir))) {
        return; // the staging area was removed (the sweep was stopped): do not recreate it
      }
      Path dir = Path.of(stagingDir, "progress", stage);
      Files.createDirectories(dir);
      Path marker = dir.resolve(key.replaceAll("[^A-Za-z0-9._-]", "_"));
      if (!Files.exists(marker)) {
        Files.createFile(marker);
      }
    } catch (IOException e) {
      // Progress display is best effort; results never depend on it.
    }
  }

  public static long count(Path stagingDir, String stage) {
    Path dir = stagingDir.resolve("progress").resolve(stage);
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.count();
    } catch (IOException e) {
      return 0;
    }
  }
}
