package dev.bitsweep.pipeline;

import java.nio.file.Path;
import java.util.List;

/**
 * A published sweep: where its results are and the headline of each config.
 *
 * @param flinkJobId the Flink job id when the sweep ran on a cluster, else null
 * @param calibrationBatches calibration batches run through the model to collect statistics: 0 when there was no
 *     calibration data or the statistics came from the cache (-1 when the runner reports no metrics)
 * @param overhead the sweep's fixed cost, phase by phase
 */
public record SweepOutcome(String sweepId, Path out, List<RunSummary> runs, Path report, double seconds,
    String flinkJobId, long calibrationBatches, SweepOverhead overhead) {
  public long failedConfigs() {
    return runs.stream().filter(r -> !"ok".equals(r.status())).count();
  }
}
