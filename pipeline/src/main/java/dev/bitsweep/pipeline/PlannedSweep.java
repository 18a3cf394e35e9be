package dev.bitsweep.pipeline;

import dev.bitsweep.layer.LayerInventory;
import dev.bitsweep.spec.SweepConfig;
import dev.bitsweep.spec.SweepSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A sweep as {@link SweepPlanner} planned it, before any job ran.
 *
 * @param out where the results are published
 * @param staging this submission's private staging area under {@code out/.staging}
 * @param tasks every (config, layer) pair to compress, checked; the compression job's source
 * @param calibration the statistics pass, when the spec names calibration data and a compressed layer has a visible
 *     input, or a config quantizes activations
 * @param evaluation the task's metric, its output and labels, and which configs are evaluated with QDQ fusion
 */
public record PlannedSweep(SweepSpec spec, Path out, Path staging, SweepPlan plan, LayerInventory inventory,
    List<LayerTask> tasks, Optional<CalibrationPlan> calibration, Evaluation evaluation) {

  /** How many units each stage of the sweep's jobs processes, for the progress line. */
  public record ProgressTotals(long calibrateBatches, long compressTasks, long packages, long evaluateBatches) {}

  public PlannedSweep {
    tasks = List.copyOf(tasks);
  }

  public String sweepId() {
    return plan.sweepId();
  }

  public List<SweepConfig> configs() {
    return spec.configs();
  }

  /** True when a statistics job must run first: the statistics are not all cached yet. */
  public boolean collectsStatistics() {
    return calibration.isPresent() && !calibration.get().cached();
  }

  public ProgressTotals totals() {
    long calibrate = collectsStatistics()
        ? (long) calibration.get().batchCount() * calibration.get().groupCount() : 0;
    return new ProgressTotals(calibrate, tasks.size(), configs().size(), (long) configs().size() * plan.batchCount());
  }
}
