package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publishing a finished job's staging area, on plain files: all or nothing, each sweep in its own places. */
class PublisherTest {
  @TempDir Path out;

  @AfterEach
  void removeHook() {
    Publisher.beforeMoveHook = what -> {};
  }

  private Path stage(String name, List<String> packages, List<String> tables) throws IOException {
    Path staging = out.resolve(".staging").resolve(name);
    for (String configId : packages) {
      Path dir = Files.createDirectories(staging.resolve("packages").resolve(configId));
      Files.writeString(dir.resolve("model.onnx"), name + " " + configId);
      Files.writeString(dir.resolve("manifest.json"), "{}");
    }
    for (String table : tables) {
      Path dir = Files.createDirectories(WriteResults.stagedTable(staging.toString(), table));
      Files.writeString(dir.resolve("part-00000-of-00001.parquet"), name + " " + table);
    }
    Files.writeString(staging.resolve(Publisher.STAGED_REPORT), "report of " + name);
    return staging;
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  /** Every file under out/ except staging areas, with its content. */
  private Map<String, String> published() throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(out)) {
      for (Path f : walk.filter(Files::isRegularFile).toList()) {
        String relative = out.relativize(f).toString();
        if (!relative.startsWith(".staging")) {
          files.put(relative, Files.readString(f));
        }
      }
    }
    return files;
  }

  @Test
  void movesPackagesTablesAndReportIntoPlaceAndRemovesTheStagingArea() throws IOException {
    Path staging = stage("s-1", List.of("a", "b"), List.of("layers", "runs"));
    Publisher.publish(staging, out, "s");

    assertEquals(Map.of(
        "packages/s/a/model.onnx", "s-1 a", "packages/s/a/manifest.json", "{}",
        "packages/s/b/model.onnx", "s-1 b", "packages/s/b/manifest.json", "{}",
        "runs/sweep_id=s/part-00000-of-00001.parquet", "s-1 runs",
        "layers/sweep_id=s/part-00000-of-00001.parquet", "s-1 layers",
        "reports/s.md", "report of s-1"), published());
    assertFalse(Files.exists(staging));
    assertEquals(List.of(), names(out.resolve(".staging")));
  }

  @Test
  void aRerunReplacesItsOwnResultsAndLeavesOtherSweepsWithTheSameConfigIdsAlone() throws IOException {
    Publisher.publish(stage("s-1", List.of("a", "b"), List.of("layers", "runs")), out, "s");
    Publisher.publish(stage("t-1", List.of("a"), List.of("layers", "runs")), out, "t");
    // The rerun of s: b failed this time, so it has no package; its old one must not survive as if current.
    Files.writeString(out.resolve("runs/sweep_id=s/stale.parquet"), "from the first run");
    Publisher.publish(stage("s-2", List.of("a"), List.of("layers", "runs")), out, "s");

    assertEquals(Map.of(
        "packages/s/a/model.onnx", "s-2 a", "packages/s/a/manifest.json", "{}",
        "packages/t/a/model.onnx", "t-1 a", "packages/t/a/manifest.json", "{}",
        "runs/sweep_id=s/part-00000-of-00001.parquet", "s-2 runs",
        "layers/sweep_id=s/part-00000-of-00001.parquet", "s-2 layers",
        "runs/sweep_id=t/part-00000-of-00001.parquet", "t-1 runs",
        "layers/sweep_id=t/part-00000-of-00001.parquet", "t-1 layers",
        "reports/s.md", "report of s-2", "reports/t.md", "report of t-1"), published());
  }

  @Test
  void aJobThatWroteNoRunsTablePublishesNothing() throws IOException {
    Path staging = stage("s-1", List.of("a"), List.of("layers"));
    Files.createDirectories(WriteResults.stagedTable(staging.toString(), "runs"));
    Publisher.PublishException e = assertThrows(Publisher.PublishException.class,
        () -> Publisher.publish(staging, out, "s"));
    assertEquals("the job finished but wrote no runs table to " + staging.resolve("tables/runs")
        + "; nothing was published", e.getMessage());
    assertEquals(Map.of(), published());
  }

  @Test
  void aReportThatCannotBePublishedUndoesThePackagesAndTablesAlreadyMoved() throws IOException {
    Publisher.publish(stage("s-1", List.of("a", "b"), List.of("layers", "runs")), out, "s");
    Map<String, String> before = published();
    // reports/ cannot hold the new report: a file is where the directory goes (as root, permissions would not stop it)
    Path reports = out.resolve("reports");
    Files.move(reports.resolve("s.md"), out.resolve("old-report.md"));
    Files.delete(reports);
    Files.writeString(reports, "not a directory");
    before = published();

    Path staging = stage("s-2", List.of("a"), List.of("layers", "runs"));
    Publisher.PublishException e = assertThrows(Publisher.PublishException.class,
        () -> Publisher.publish(staging, out, "s"));
    assertEquals("publishing failed (" + reports + "); nothing was published: " + out
        + " holds what it held before for sweep s", e.getMessage());
    assertEquals(before, published(), "the first run's packages and tables are back, byte for byte");
  }

  @Test
  void aFailureBeforeTheRunsTableRestoresEveryEarlierResult() throws IOException {
    Publisher.publish(stage("s-1", List.of("a", "b"), List.of("layers", "runs")), out, "s");
    Map<String, String> before = published();
    Publisher.beforeMoveHook = what -> {
      if (what.equals("runs table")) {
        throw new IllegalStateException("simulated disk full");
      }
    };
    Path staging = stage("s-2", List.of("a"), List.of("layers", "runs"));
    Publisher.PublishException e = assertThrows(Publisher.PublishException.class,
        () -> Publisher.publish(staging, out, "s"));
    assertEquals("publishing failed (simulated disk full); nothing was published: " + out
        + " holds what it held before for sweep s", e.getMessage());
    assertEquals(before, published());
  }

  @Test
  void pathsFromUserInputStayInsideTheOutputDirectory() {
    for (String bad : new String[] {"..", ".", "a/b", "../x", "", ".hidden", "a\\b"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> OutPaths.inside(out, "packages", bad), bad);
      assertEquals("refusing the path segment '" + bad + "' under " + out.toAbsolutePath().normalize()
          + ": not a safe directory name", e.getMessage());
    }
    assertEquals(out.resolve("runs/sweep_id=s-1"), OutPaths.inside(out, "runs", "sweep_id=s-1"));
    assertThrows(IllegalArgumentException.class, () -> OutPaths.inside(out, "runs", "sweep_id=.."));
  }

  @Test
  void discardRemovesTheStagingAreaAndToleratesItsAbsence() throws IOException {
    Path staging = stage("s-1", List.of("a"), List.of("layers", "runs"));
    Publisher.discard(staging);
    assertFalse(Files.exists(staging));
    Publisher.discard(staging);
    assertFalse(Files.exists(out.resolve("packages")), "discarding publishes nothing");
  }
}
