package dev.bitsweep.cluster;

import dev.bitsweep.ResultTables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.bitsweep.Fixtures;
import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.Slf4jLogConsumer;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

/**
 * The deploy image (deploy/docker, built here with the job jar on the local base image) run as a JobManager +
 * TaskManager pair; the demo sweep is submitted from this JVM to the JobManager's mapped REST port. The repository's
 * calibration-data and the output directory are bind-mounted at the same absolute paths inside the containers, so
 * the spec's paths mean the same files to the TaskManager as to the client. Skipped where no Docker engine answers.
 */
@Testcontainers(disabledWithoutDocker = true)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainerClusterSweepTest {
  private static final String IMAGE = "local/bitsweep-flink-test:1.19.0";
  private static final Path SPEC = Fixtures.digits().resolve("sweep.yaml");
  private Network network;
  private GenericContainer<?> jobManager;
  private GenericContainer<?> taskManager;
  private FlinkRest rest;
  private SweepOutcome inContainers;
  private SweepOutcome embedded;

  @BeforeAll
  void submitTheDemoToAContainerCluster() throws Exception {
    Path jobJar = ClusterTests.jobJar();
    buildImage(jobJar);
    Path calibrationData = Fixtures.repositoryRoot().resolve("calibration-data");
    Path out = ProcessCluster.testClustersDir().resolve("container-out");
    Files.createDirectories(out);

    network = Network.newNetwork();
    jobManager = new GenericContainer<>(DockerImageName.parse(IMAGE)).withCommand("jobmanager")
        .withNetwork(network).withNetworkAliases("jobmanager").withExposedPorts(8081)
        .withFileSystemBind(calibrationData.toString(), calibrationData.toString(), BindMode.READ_ONLY)
        .withFileSystemBind(out.toString(), out.toString(), BindMode.READ_WRITE)
        .withStartupTimeout(Duration.ofMinutes(3));
    taskManager = new GenericContainer<>(DockerImageName.parse(IMAGE)).withCommand("taskmanager")
        .withNetwork(network).withEnv("JOB_MANAGER_RPC_ADDRESS", "jobmanager")
        .withFileSystemBind(calibrationData.toString(), calibrationData.toString(), BindMode.READ_ONLY)
        .withFileSystemBind(out.toString(), out.toString(), BindMode.READ_WRITE);
    // Same OpenBLAS kernel choice as the embedded run on this host (see ResultTables).
    System.getenv().forEach((name, value) -> {
      if (name.startsWith("OPENBLAS_")) {
        jobManager.withEnv(name, value);
        taskManager.withEnv(name, value);
      }
    });
    jobManager.start();
    jobManager.followOutput(new Slf4jLogConsumer(org.slf4j.LoggerFactory.getLogger("jobmanager")));
    taskManager.start();
    taskManager.followOutput(new Slf4jLogConsumer(org.slf4j.LoggerFactory.getLogger("taskmanager")));
    String restAddress = jobManager.getHost() + ":" + jobManager.getMappedPort(8081);
    rest = new FlinkRest(restAddress);
    awaitTaskManagerSlots(rest);

    inContainers = new SweepRunner(System.out).run(SPEC, Launch.cluster(restAddress, 2).withOut(out));
    embedded = EmbeddedReference.of(SPEC);
  }

  @AfterAll
  void stopTheContainers() {
    for (AutoCloseable closeable : new AutoCloseable[] {taskManager, jobManager, network}) {
      try {
        if (closeable != null) {
          closeable.close();
        }
      } catch (Exception e) {
        System.err.println("ContainerClusterSweepTest: cannot stop " + closeable + ": " + e);
      }
    }
  }

  private static void buildImage(Path jobJar) throws IOException, InterruptedException {
    Path log = ProcessCluster.testClustersDir().resolve("container-build-image.log");
    Files.createDirectories(log.getParent());
    Process build = new ProcessBuilder("bash", Fixtures.repositoryRoot().resolve("deploy/docker/build-image.sh").toString(),
        "--tag", IMAGE, "--job-jar", jobJar.toString(), "--main-class", "dev.bitsweep.cli.Main")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!build.waitFor(10, TimeUnit.MINUTES) || build.exitValue() != 0) {
      build.destroyForcibly();
      throw new IllegalStateException("deploy/docker/build-image.sh failed; see " + log + ":\n" + Files.readString(log));
    }
  }

  /** A TaskManager shows up in /overview a moment before its slots do: wait for both. */
  private static void awaitTaskManagerSlots(FlinkRest rest) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (System.nanoTime() < deadline) {
      try {
        var overview = rest.get("/overview");
        if (overview.path("taskmanagers").asInt() >= 1 && overview.path("slots-total").asInt() >= 2) {
          return;
        }
      } catch (RuntimeException e) {
        // not up yet
      }
      Thread.sleep(1000);
    }
    throw new IllegalStateException("the TaskManager container did not register its slots within 3 minutes");
  }

  @Test
  void theJobFinishedInTheContainers() {
    assertNotNull(inContainers.flinkJobId());
    List<FlinkRest.Job> jobs = rest.jobs().stream().filter(j -> j.id().equals(inContainers.flinkJobId())).toList();
    assertEquals(1, jobs.size());
    assertEquals("FINISHED", jobs.get(0).state());
    var taskManagers = rest.get("/taskmanagers").path("taskmanagers");
    assertEquals(1, taskManagers.size());
    var job = rest.get("/jobs/" + inContainers.flinkJobId());
    for (var vertex : job.path("vertices")) {
      var placement = rest.get("/jobs/" + inContainers.flinkJobId() + "/vertices/" + vertex.path("id").asText()
          + "/taskmanagers").path("taskmanagers");
      for (var tm : placement) {
        assertEquals(taskManagers.get(0).path("id").asText(), tm.path("taskmanager-id").asText(),
            vertex.path("name").asText() + " ran in the TaskManager container");
      }
    }
  }

  @Test
  void runsAndLayersEqualTheEmbeddedRun() throws Exception {
    assertEquals(embedded.sweepId(), inContainers.sweepId());
    assertEquals(13, inContainers.runs().size());
    ResultTables.assertSameResults(embedded.out(), inContainers.out());
  }
}
