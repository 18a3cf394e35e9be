package dev.bitsweep.cluster;

import dev.bitsweep.ResultTables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bitsweep.Fixtures;
import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The demo sweep submitted to a real Flink session cluster (deploy/cluster.sh: a JobManager and one TaskManager
 * with 2 slots, separate JVMs on loopback) with parallelism 2, compared with the embedded run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProcessClusterSweepTest {
  private static final Path SPEC = Fixtures.digits().resolve("sweep.yaml");
  private ProcessCluster cluster;
  private SweepOutcome onCluster;
  private SweepOutcome embedded;

  @BeforeAll
  void submitTheDemoToAProcessCluster() {
    ClusterTests.jobJar();
    cluster = ProcessCluster.start("process", 18610, "--taskmanagers", "1", "--slots", "2");
    Path out = ProcessCluster.testClustersDir().resolve("process-out");
    onCluster = new SweepRunner(System.out).run(SPEC, Launch.cluster(cluster.restAddress(), 2).withOut(out));
    embedded = EmbeddedReference.of(SPEC);
  }

  @AfterAll
  void stopTheCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void theJobFinishedOnTheCluster() {
    assertNotNull(onCluster.flinkJobId(), "the CLI found its job on the cluster");
    FlinkRest.Job job = cluster.rest().jobs().stream().filter(j -> j.id().equals(onCluster.flinkJobId()))
        .findFirst().orElseThrow();
    assertEquals("FINISHED", job.state());
    assertTrue(job.name().startsWith("bitsweep-" + onCluster.sweepId() + "-"), job.name());
    assertTrue(job.tasks().path("finished").asInt() > 0, job.tasks().toString());
    assertEquals(job.tasks().path("total").asInt(), job.tasks().path("finished").asInt(), job.tasks().toString());
  }

  @Test
  void itsTasksRanInTheTaskManagerWithParallelismTwo() {
    FlinkRest rest = cluster.rest();
    Set<String> taskManagers = new HashSet<>();
    rest.get("/taskmanagers").path("taskmanagers").forEach(tm -> taskManagers.add(tm.path("id").asText()));
    assertEquals(1, taskManagers.size(), "one TaskManager in this cluster");

    JsonNode job = rest.get("/jobs/" + onCluster.flinkJobId());
    List<String> compressVertices = new ArrayList<>();
    for (JsonNode vertex : job.path("vertices")) {
      assertEquals("FINISHED", vertex.path("status").asText(), vertex.path("name").asText());
      JsonNode placement = rest.get("/jobs/" + onCluster.flinkJobId() + "/vertices/" + vertex.path("id").asText()
          + "/taskmanagers");
      for (JsonNode tm : placement.path("taskmanagers")) {
        assertTrue(taskManagers.contains(tm.path("taskmanager-id").asText()), tm.toString());
      }
      assertTrue(placement.path("taskmanagers").size() > 0, vertex.path("name").asText());
      if (vertex.path("name").asText().contains("CompressLayers/Compress")) {
        compressVertices.add(vertex.path("name").asText());
        assertEquals(2, vertex.path("parallelism").asInt(), vertex.path("name").asText());
      }
    }
    assertEquals(1, compressVertices.size(), "one vertex runs CompressLayers/Compress: " + job.path("vertices"));
    // Chained to the task source, a subtask asks for its next task only after compressing the last one.
    String compress = compressVertices.get(0);
    assertTrue(compress.startsWith("CHAIN DataSource (at CompressLayers/LayerTasks"), compress);
    assertTrue(compress.indexOf("CompressLayers/Compress") > compress.indexOf("CompressLayers/LayerTasks"), compress);
  }

  @Test
  void eachTaskGetsOneCoreOfTheTaskManager() {
    int cores = cluster.rest().get("/taskmanagers").path("taskmanagers").get(0).path("hardware").path("cpuCores").asInt();
    assertEquals(Runtime.getRuntime().availableProcessors(), cores, "the TaskManager runs on this machine");
    assertEquals(Math.max(1, cores / 2), cluster.rest().coresPerSlot(), "2 slots share the TaskManager's cores");
  }

  @Test
  void runsAndLayersEqualTheEmbeddedRun() throws Exception {
    assertEquals(embedded.sweepId(), onCluster.sweepId());
    assertEquals(13, onCluster.runs().size());
    ResultTables.assertSameResults(embedded.out(), onCluster.out());
  }
}
