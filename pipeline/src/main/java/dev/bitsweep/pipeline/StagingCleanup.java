package dev.bitsweep.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Removes a submission's staging area when the JVM is stopped by SIGTERM or SIGINT (a shutdown hook). A stop that
 * arrives while publishing waits for publishing to finish (it is a few renames), so the output directory is never
 * left half-published by a signal.
 */
final class StagingCleanup {
  /** Publishing: moves that either all happen or are all undone. */
  interface Publishing {
    void run() throws IOException;
  }

  private final Path staging;
  private final Thread hook;

  private StagingCleanup(Path staging) {
    this.staging = staging;
    this.hook = new Thread(this::cleanUp, "bitsweep-staging-cleanup");
  }

  static StagingCleanup register(Path staging) {
    StagingCleanup cleanup = new StagingCleanup(staging);
    Runtime.getRuntime().addShutdownHook(cleanup.hook);
    return cleanup;
  }

  synchronized void publish(Publishing publishing) throws IOException {
    publishing.run();
  }

  /**
   * Tasks still running may be writing into the staging area while it is removed (a compressed layer going into the
   * layer store); they stop writing once its owner file is gone, so passes until it stays gone remove what they left.
   */
  private synchronized void cleanUp() {
    int quiet = 0;
    for (int pass = 0; pass < 50 && quiet < 3; pass++) {
      if (Files.exists(staging)) {
        quiet = 0;
        try {
          Publisher.deleteRecursively(staging);
        } catch (IOException | RuntimeException e) {
          // retried; failing that, the next run in this output directory removes it (StagingAreas.removeStale)
        }
      } else {
        quiet++;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  void unregister() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook is running or has run
    }
  }
}
