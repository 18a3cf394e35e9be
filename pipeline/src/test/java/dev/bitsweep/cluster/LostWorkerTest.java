package dev.bitsweep.cluster;

import dev.bitsweep.ResultTables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.cli.Main;
import dev.bitsweep.pipeline.Progress;
import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A TaskManager is killed (SIGKILL, deploy/cluster.sh kill-taskmanager) while the compression stage runs.
 * With a replacement TaskManager and the cluster's fixed-delay restart strategy the job completes with exactly the
 * embedded run's results; on a cluster without restarts ({@code --restart-strategy none}) and no replacement the
 * CLI reports the failure and publishes nothing. Whether the kill lands in compression is printed, not asserted:
 * the outcome must be right wherever it lands.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LostWorkerTest {
  private static final int TOTAL_COMPRESS_TASKS = SyntheticSweep.CONFIGS * SyntheticSweep.LAYERS;
  private final ExecutorService submitter = Executors.newSingleThreadExecutor();
  private ProcessCluster cluster;
  private ProcessCluster noRestarts;
  private Path spec;
  private SweepOutcome embedded;

  @BeforeAll
  void startClusterAndEmbeddedReference() {
    ClusterTests.jobJar();
    spec = SyntheticSweep.write(ProcessCluster.testClustersDir().resolve("lost-worker-spec"), 1024,
        Fixtures.digits().resolve("eval"));
    cluster = ProcessCluster.start("lost-worker", 18660, "--taskmanagers", "1", "--slots", "2",
        "--restart-strategy", "fixed-delay", "--restart-attempts", "3", "--restart-delay", "2 s",
        "--heartbeat-interval", "2000", "--heartbeat-timeout", "10000");
    embedded = EmbeddedReference.of(spec);
  }

  @AfterAll
  void stopTheClusters() {
    submitter.shutdownNow();
    for (ProcessCluster c : new ProcessCluster[] {cluster, noRestarts}) {
      if (c != null) {
        c.close();
      }
    }
  }

  private static Path emptyDir(String name) throws Exception {
    Path dir = ProcessCluster.testClustersDir().resolve("lost-worker-out").resolve(name);
    if (Files.exists(dir)) {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    return Files.createDirectories(dir);
  }

  @Test
  @Order(1)
  void withAReplacementTaskManagerTheJobRestartsAndEveryConfigIsPublishedOnce() throws Exception {
    Path out = emptyDir("replaced");
    Future<SweepOutcome> sweep = submitter.submit(() -> new SweepRunner(System.out)
        .run(spec, Launch.cluster(cluster.restAddress(), 2).withOut(out)));
    long doneAtKill = waitForCompression(out, sweep);
    cluster.killTaskManager(1);
    System.out.printf("LostWorkerTest: killed TaskManager 1 with %d/%d compression tasks done%n", doneAtKill,
        TOTAL_COMPRESS_TASKS);
    cluster.addTaskManager();
    SweepOutcome outcome = sweep.get(15, TimeUnit.MINUTES);
    String recoveredJobId = outcome.flinkJobId();

    assertNotNull(recoveredJobId);
    assertEquals("FINISHED", cluster.rest().get("/jobs/" + recoveredJobId).path("state").asText());
    assertTrue(cluster.rest().get("/jobs/" + recoveredJobId + "/exceptions").path("exceptionHistory")
        .path("entries").size() > 0, "the job saw the lost TaskManager's failure and was restarted");
    List<Map<String, Object>> perConfig = ResultTables.query("SELECT config_id, count(*) AS n FROM "
        + ResultTables.table(outcome.out(), "runs") + " GROUP BY config_id ORDER BY config_id");
    assertEquals(SyntheticSweep.CONFIGS, perConfig.size());
    perConfig.forEach(row -> assertEquals(1L, row.get("n"), row.toString()));
    ResultTables.assertSameResults(embedded.out(), outcome.out());
  }

  @Test
  @Order(2)
  void withoutRestartsTheCliFailsAndPublishesNothing() throws Exception {
    cluster.close();
    cluster = null;
    noRestarts = ProcessCluster.start("lost-worker-no-restarts", 18690, "--taskmanagers", "1", "--slots", "2",
        "--restart-strategy", "none", "--heartbeat-interval", "2000", "--heartbeat-timeout", "10000");
    Path out = emptyDir("failed");
    Future<Integer> cli = submitter.submit(() -> Main.execute("sweep", spec.toString(), "--out", out.toString(),
        "--runner", "flink", "--flink-master", noRestarts.restAddress(), "--parallelism", "2"));
    long doneAtKill = waitForCompression(out, cli);
    noRestarts.killTaskManager(1);
    System.out.printf("LostWorkerTest: killed TaskManager 1 with %d/%d compression tasks done, no replacement%n",
        doneAtKill, TOTAL_COMPRESS_TASKS);

    assertEquals(1, cli.get(10, TimeUnit.MINUTES), "exit code of a failed job");
    assertFalse(Files.exists(out.resolve("runs").resolve("sweep_id=" + embedded.sweepId())), "no runs/ partition");
    assertFalse(Files.exists(out.resolve("layers").resolve("sweep_id=" + embedded.sweepId())), "no layers/ partition");
    try (Stream<Path> staged = Files.list(out.resolve(".staging"))) {
      assertEquals(List.of(), staged.toList(), "the failed job's staging area is removed");
    }
    List<FlinkRest.Job> failed = noRestarts.rest().jobs().stream()
        .filter(j -> j.name().startsWith("bitsweep-" + embedded.sweepId() + "-")).toList();
    assertEquals(1, failed.size(), failed.toString());
    assertEquals("FAILED", failed.get(0).state());
  }

  /** Waits until the staging area shows a finished compression task, returning how many are done. */
  private static long waitForCompression(Path out, Future<?> sweep) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (sweep.isDone()) {
        sweep.get();
        throw new AssertionError("the sweep ended before any compression task finished");
      }
      Path stagingRoot = out.resolve(".staging");
      if (Files.isDirectory(stagingRoot)) {
        try (Stream<Path> runs = Files.list(stagingRoot)) {
          for (Path staging : runs.toList()) {
            long done = Progress.count(staging, "compress");
            if (done > 0) {
              return done;
            }
          }
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no compression task finished within 10 minutes");
  }
}
