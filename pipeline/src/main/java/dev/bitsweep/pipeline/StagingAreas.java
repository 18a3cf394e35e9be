package dev.bitsweep.pipeline;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The staging areas under {@code <out>/.staging/}, one per submission, each with an {@code owner} file naming the
 * process that created it (host, pid, the process's start time). A staging area whose owner is no longer alive on
 * this host (a run killed with SIGKILL, or a crash) is removed by the next run in the same output directory; one
 * owned by another host is removed only when it is older than {@link #FOREIGN_AGE}; a live run's is never touched.
 */
public final class StagingAreas {
  static final String OWNER_FILE = "owner";
  static final Duration FOREIGN_AGE = Duration.ofDays(2);
  /** A staging area whose owner file is missing (killed between mkdir and write) is stale after this. */
  static final Duration UNOWNED_AGE = Duration.ofMinutes(1);

  private StagingAreas() {}

  /** A new staging area's path (not created yet). */
  static Path newPath(Path out, String sweepId) {
    return out.resolve(".staging").resolve(sweepId + "-" + UUID.randomUUID().toString().substring(0, 8));
  }

  /** Creates {@code staging} and its owner file for this process. */
  static void create(Path staging) throws IOException {
    Files.createDirectories(staging);
    Files.writeString(staging.resolve(OWNER_FILE), ownerLine(), StandardCharsets.UTF_8);
  }

  static String ownerLine() {
    ProcessHandle self = ProcessHandle.current();
    return host() + " " + self.pid() + " " + startOf(self).map(Instant::toString).orElse("-") + "\n";
  }

  /** What {@link #removeStale} removed. */
  public record Removed(int areas, long bytes) {}

  /** Removes the staging areas under {@code out} that no live process owns. */
  static Removed removeStale(Path out) {
    Path root = out.resolve(".staging");
    if (!Files.isDirectory(root)) {
      return new Removed(0, 0);
    }
    int areas = 0;
    long bytes = 0;
    List<Path> dirs;
    try (Stream<Path> list = Files.list(root)) {
      dirs = list.filter(Files::isDirectory).toList();
    } catch (IOException e) {
      return new Removed(0, 0);
    }
    for (Path dir : dirs) {
      if (!stale(dir)) {
        continue;
      }
      long size = size(dir);
      try {
        Publisher.deleteRecursively(dir);
        areas++;
        bytes += size;
      } catch (IOException e) {
        // another run may be removing it at the same time; the next run tries again
      }
    }
    return new Removed(areas, bytes);
  }

  static boolean stale(Path dir) {
    Path owner = dir.resolve(OWNER_FILE);
    try {
      if (!Files.isRegularFile(owner)) {
        return olderThan(dir, UNOWNED_AGE);
      }
      String[] parts = Files.readString(owner, StandardCharsets.UTF_8).trim().split(" ");
      if (parts.length != 3) {
        return olderThan(owner, UNOWNED_AGE);
      }
      if (!parts[0].equals(host())) {
        return olderThan(owner, FOREIGN_AGE);
      }
      Optional<ProcessHandle> process = ProcessHandle.of(Long.parseLong(parts[1]));
      if (process.isEmpty() || !process.get().isAlive()) {
        return true;
      }
      // the pid may have been reused by another process since
      return !parts[2].equals("-") && startOf(process.get()).map(Instant::toString).map(s -> !s.equals(parts[2]))
          .orElse(false);
    } catch (IOException | NumberFormatException e) {
      return false;
    }
  }

  private static boolean olderThan(Path path, Duration age) throws IOException {
    FileTime modified = Files.getLastModifiedTime(path);
    return modified.toInstant().isBefore(Instant.now().minus(age));
  }

  private static Optional<Instant> startOf(ProcessHandle process) {
    return process.info().startInstant();
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName().replace(' ', '_');
    } catch (IOException e) {
      return "localhost";
    }
  }

  private static long size(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    } catch (IOException | java.io.UncheckedIOException e) {
      return 0;
    }
  }
}
