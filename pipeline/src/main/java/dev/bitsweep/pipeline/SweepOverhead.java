package dev.bitsweep.pipeline;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The fixed cost of a sweep, apart from its work: the JVM's start up to the sweep's first line (only for the first
 * sweep a JVM runs, else 0), planning (spec, model and data headers, hashes), the jobs' wall time (on embedded
 * Flink this includes starting and stopping the MiniCluster and submitting the job; for a trivial sweep it is almost
 * all of it) and publishing plus the reports.
 */
public record SweepOverhead(double jvmStartSeconds, double planningSeconds, double jobSeconds, double publishSeconds) {
  private static final AtomicBoolean FIRST_SWEEP = new AtomicBoolean(true);

  /** Seconds from the JVM's start to now, the first time a JVM asks; 0 afterwards. */
  static double jvmStartSecondsOnce() {
    if (!FIRST_SWEEP.getAndSet(false)) {
      return 0;
    }
    long startMillis = ManagementFactory.getRuntimeMXBean().getStartTime();
    return Math.max(0, (System.currentTimeMillis() - startMillis) / 1e3);
  }

  public double fixedSeconds() {
    return jvmStartSeconds + planningSeconds + publishSeconds;
  }

  public String format() {
    return String.format(Locale.ROOT, "fixed cost: JVM start %.2f s, planning %.2f s, publishing + report %.2f s;"
        + " jobs %.2f s (runner start, submission and the work)", jvmStartSeconds, planningSeconds, publishSeconds,
        jobSeconds);
  }
}
