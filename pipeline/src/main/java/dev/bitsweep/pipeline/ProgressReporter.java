package dev.bitsweep.pipeline;

import java.io.PrintStream;
import java.nio.file.Path;

/** Prints the sweep's progress (stage, done of total) every few seconds while the job runs. */
final class ProgressReporter {
  private final PrintStream console;
  private final Path staging;
  private final long compressTotal;
  private final long packageTotal;
  private final long evaluateTotal;
  private final long calibrateTotal;
  private volatile boolean running;
  private Thread thread;
  private String last = "";

  ProgressReporter(PrintStream console, Path staging, PlannedSweep.ProgressTotals totals) {
    this.console = console;
    this.staging = staging;
    this.calibrateTotal = totals.calibrateBatches();
    this.compressTotal = totals.compressTasks();
    this.packageTotal = totals.packages();
    this.evaluateTotal = totals.evaluateBatches();
  }

  void start() {
    running = true;
    thread = new Thread(this::loop, "bitsweep-progress");
    thread.setDaemon(true);
    thread.start();
  }

  void stop() {
    running = false;
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      thread = null;
      print();
    }
  }

  private void loop() {
    while (running) {
      print();
      try {
        Thread.sleep(2000);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private synchronized void print() {
    long compressed = Progress.count(staging, "compress");
    long packaged = Progress.count(staging, "package");
    long evaluated = Progress.count(staging, "evaluate");
    long calibrated = Progress.count(staging, "calibrate");
    String stage = packaged < packageTotal ? (compressed < compressTotal ? "compress" : "package") : "evaluate";
    if (calibrated < calibrateTotal && compressed == 0) {
      stage = "calibrate";
    }
    if (evaluated >= evaluateTotal && packaged >= packageTotal) {
      stage = "write results";
    }
    String calibration = calibrateTotal == 0 ? ""
        : String.format("calibrated %d/%d batches, ", calibrated, calibrateTotal);
    String line = String.format("  [%s] %scompressed %d/%d layer-configs, packaged %d/%d configs, evaluated %d/%d batches",
        stage, calibration, compressed, compressTotal, packaged, packageTotal, evaluated, evaluateTotal);
    if (!line.equals(last)) {
      console.println(line);
      last = line;
    }
  }
}
