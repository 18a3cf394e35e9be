package dev.bitsweep.pipeline;

import java.nio.file.Path;
import java.util.List;

/** A published sweep: where its results are and the headline of each config. */
public record SweepOutcome(String sweepId, Path out, List<RunSummary> runs, Path report, double seconds) {
  public long failedConfigs() {
    return runs.stream().filter(r -> !"ok".equals(r.status())).count();
  }
}
