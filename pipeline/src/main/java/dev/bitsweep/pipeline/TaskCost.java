package dev.bitsweep.pipeline;

import dev.bitsweep.methods.Methods;

/**
 * A rough estimate of how long a layer task takes, in seconds of one core of this kind of machine, used only to
 * start the heavy tasks first (longest processing time first keeps the last worker from finishing long after the
 * others). Each method's cost model is registered with it ({@link dev.bitsweep.methods.Methods}).
 */
final class TaskCost {
  private TaskCost() {}

  static double seconds(LayerTask task) {
    return Methods.ALL.estimatedSeconds(task.config(), task.layer().params(), task.layer().rows(),
        task.layer().cols());
  }
}
