package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publishing a finished job's staging area, on plain files. */
class PublisherTest {
  @TempDir Path out;

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
    return staging;
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void movesPackagesAndTablesIntoPlaceAndRemovesTheStagingArea() throws IOException {
    Path staging = stage("s-1", List.of("a", "b"), List.of("layers", "runs"));
    Publisher.publish(staging, out, "s", List.of("a", "b"));

    assertEquals("s-1 a", Files.readString(out.resolve("packages/a/model.onnx")));
    assertEquals(List.of("manifest.json", "model.onnx"), names(out.resolve("packages/b")));
    assertEquals("s-1 runs", Files.readString(out.resolve("runs/sweep_id=s/part-00000-of-00001.parquet")));
    assertEquals("s-1 layers", Files.readString(out.resolve("layers/sweep_id=s/part-00000-of-00001.parquet")));
    assertFalse(Files.exists(staging));
    assertEquals(List.of(), names(out.resolve(".staging")));
  }

  @Test
  void aRerunReplacesItsPartitionAndPackagesAndLeavesOtherSweepsAlone() throws IOException {
    Publisher.publish(stage("s-1", List.of("a", "b"), List.of("layers", "runs")), out, "s", List.of("a", "b"));
    Publisher.publish(stage("t-1", List.of("a"), List.of("layers", "runs")), out, "t", List.of("a"));
    // The rerun of s: b failed this time, so it has no package; its old one must not survive as if current.
    Files.writeString(out.resolve("runs/sweep_id=s/stale.parquet"), "from the first run");
    Publisher.publish(stage("s-2", List.of("a"), List.of("layers", "runs")), out, "s", List.of("a", "b"));

    assertEquals("s-2 a", Files.readString(out.resolve("packages/a/model.onnx")));
    assertFalse(Files.exists(out.resolve("packages/b")), "b's package from the earlier run is removed");
    assertEquals(List.of("part-00000-of-00001.parquet"), names(out.resolve("runs/sweep_id=s")));
    assertEquals("s-2 runs", Files.readString(out.resolve("runs/sweep_id=s/part-00000-of-00001.parquet")));
    assertEquals("t-1 runs", Files.readString(out.resolve("runs/sweep_id=t/part-00000-of-00001.parquet")));
  }

  @Test
  void aJobThatWroteNoRunsTablePublishesNoRuns() throws IOException {
    Path staging = stage("s-1", List.of("a"), List.of("layers"));
    Files.createDirectories(WriteResults.stagedTable(staging.toString(), "runs"));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Publisher.publish(staging, out, "s", List.of("a")));
    assertTrue(e.getMessage().contains("wrote no runs table"), e.getMessage());
    assertFalse(Files.exists(out.resolve("runs")), "runs/ is published last and only when complete");
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
