package dev.bitsweep.pipeline;

import java.nio.file.Path;
import java.util.List;

/** A published sweep: where its results are, the headline of each config, and the Flink job id on a cluster (else null). */
public record SweepOutcome(String sweepId, Path out, List<RunSummary> runs, Path report, double seconds,
    String flinkJobId) {
  public long failedConfigs() {
    return runs.stream().filter(r -> !"ok".equals(r.status())).count();
  }
}
