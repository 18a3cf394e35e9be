package dev.bitsweep.cluster;

import dev.bitsweep.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Flink session cluster started by deploy/cluster.sh in pipeline/target/test-clusters/NAME, for one test class.
 * Every call waits for the script; its stderr goes to test-clusters/NAME.cluster-sh.log.
 */
final class ProcessCluster implements AutoCloseable {
  private final Path clusterDir;
  private final Path scriptLog;
  private final String restAddress;

  private ProcessCluster(Path clusterDir, Path scriptLog, String restAddress) {
    this.clusterDir = clusterDir;
    this.scriptLog = scriptLog;
    this.restAddress = restAddress;
  }

  static Path testClustersDir() {
    return Fixtures.repositoryRoot().resolve("pipeline/target/test-clusters");
  }

  /** Starts JobManager + TaskManager(s) with {@code options} (cluster.sh flags) and returns once they are ready. */
  static ProcessCluster start(String name, int portBase, String... options) {
    Path dir = testClustersDir().resolve(name);
    Path log = testClustersDir().resolve(name + ".cluster-sh.log");
    List<String> args = new ArrayList<>(List.of("start", "--cluster-dir", dir.toString(), "--port-base",
        Integer.toString(portBase)));
    args.addAll(List.of(options));
    try {
      Files.createDirectories(dir);
      script(dir, log, List.of("stop", "--cluster-dir", dir.toString()), 120); // a leftover of a killed test run
    } catch (IOException | RuntimeException e) {
      // nothing was running there
    }
    String out = script(dir, log, args, 300).strip();
    String address = out.lines().reduce((a, b) -> b).orElseThrow(() ->
        new IllegalStateException("cluster.sh start printed no REST address; see " + log));
    return new ProcessCluster(dir, log, address);
  }

  String restAddress() {
    return restAddress;
  }

  FlinkRest rest() {
    return new FlinkRest(restAddress);
  }

  Path dir() {
    return clusterDir;
  }

  void killTaskManager(int number) {
    script(clusterDir, scriptLog, List.of("kill-taskmanager", Integer.toString(number), "--cluster-dir",
        clusterDir.toString()), 60);
  }

  void addTaskManager() {
    script(clusterDir, scriptLog, List.of("add-taskmanager", "--cluster-dir", clusterDir.toString()), 240);
  }

  String taskManagerLog(int number) throws IOException {
    return Files.readString(clusterDir.resolve("log/taskmanager-" + number + ".log"), StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    script(clusterDir, scriptLog, List.of("stop", "--cluster-dir", clusterDir.toString()), 120);
  }

  private static String script(Path dir, Path log, List<String> args, int timeoutSeconds) {
    List<String> command = new ArrayList<>(List.of("bash", Fixtures.repositoryRoot().resolve("deploy/cluster.sh").toString()));
    command.addAll(args);
    try {
      Path stdout = Files.createTempFile("cluster-sh", ".out");
      Process process = new ProcessBuilder(command).redirectOutput(stdout.toFile())
          .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", args) + " took over " + timeoutSeconds + " s; see " + log);
      }
      String out = Files.readString(stdout);
      Files.delete(stdout);
      if (process.exitValue() != 0) {
        throw new IllegalStateException("cluster.sh " + String.join(" ", args) + " exited " + process.exitValue()
            + "; see " + log + "\n" + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: cluster.sh " + String.join(" ", args), e);
    }
  }
}
