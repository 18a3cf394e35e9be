package dev.bitsweep.cluster;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * Watches a Flink session cluster for the job a sweep submitted (found by its unique name in {@code /jobs/overview})
 * and prints its id and the web UI address once it appears, then each change of its state.
 */
public final class JobWatcher {
  private final FlinkRest rest;
  private final String jobName;
  private final PrintStream console;
  private volatile String jobId;
  private volatile String state = "";
  private volatile boolean running;
  private Thread thread;

  public JobWatcher(FlinkRest rest, String jobName, PrintStream console) {
    this.rest = rest;
    this.jobName = jobName;
    this.console = console;
  }

  public void start() {
    running = true;
    thread = new Thread(this::loop, "bitsweep-flink-job");
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops watching after one last look, so that a short job's id and final state are still reported. */
  public void stop() {
    running = false;
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      thread = null;
    }
    poll();
  }

  /** The Flink job id, once the job was seen on the cluster. */
  public Optional<String> jobId() {
    return Optional.ofNullable(jobId);
  }

  public String lastState() {
    return state;
  }

  private void loop() {
    while (running) {
      poll();
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private synchronized void poll() {
    Optional<FlinkRest.Job> job;
    try {
      job = rest.jobNamed(jobName);
    } catch (UncheckedIOException e) {
      return; // the cluster may be busy; the job's own result decides success
    }
    if (job.isEmpty()) {
      return;
    }
    if (jobId == null) {
      jobId = job.get().id();
      console.printf("  flink job %s (%s) on %s, web UI %s/#/job/running/%s/overview%n", jobId, jobName,
          rest.webUi(), rest.webUi(), jobId);
    }
    if (!job.get().state().equals(state)) {
      state = job.get().state();
      console.printf("  flink job %s: %s%n", jobId, state);
    }
  }
}
