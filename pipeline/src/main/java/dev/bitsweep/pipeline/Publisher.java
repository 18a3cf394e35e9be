package dev.bitsweep.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Moves a finished job's staged outputs into place: packages first, then {@code layers/}, and {@code runs/} last,
 * each replacing what an earlier run of the same sweep left there. A job that did not finish publishes nothing.
 */
public final class Publisher {
  private Publisher() {}

  /**
   * @param configIds every config of the sweep: a config without a staged package loses the package an earlier run
   *     left (its run row says why there is none)
   */
  static void publish(Path staging, Path out, String sweepId, List<String> configIds) throws IOException {
    Path stagedPackages = staging.resolve("packages");
    for (String configId : configIds) {
      Path target = out.resolve("packages").resolve(configId);
      deleteRecursively(target);
      Path staged = stagedPackages.resolve(configId);
      if (Files.isDirectory(staged)) {
        Files.createDirectories(target.getParent());
        Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    for (String table : List.of("layers", "runs")) {
      Path staged = WriteResults.stagedTable(staging.toString(), table);
      try (Stream<Path> files = Files.list(staged)) {
        if (files.noneMatch(f -> f.getFileName().toString().endsWith(".parquet"))) {
          throw new IllegalStateException("the job finished but wrote no " + table + " table to " + staged);
        }
      }
      Path target = out.resolve(table).resolve("sweep_id=" + sweepId);
      deleteRecursively(target);
      Files.createDirectories(target.getParent());
      Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
    }
    deleteRecursively(staging);
  }

  static void discard(Path staging) {
    try {
      deleteRecursively(staging);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the staging area " + staging, e);
    }
  }

  static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
