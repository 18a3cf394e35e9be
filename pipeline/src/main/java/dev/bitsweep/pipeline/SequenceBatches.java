package dev.bitsweep.pipeline;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.spec.SpecException;
import dev.bitsweep.spec.SweepSpec;
import java.util.ArrayList;
import java.util.List;

/** With state inputs, sequences are the unit of fan-out: the evaluated frames must end on a sequence boundary. */
final class SequenceBatches {
  private SequenceBatches() {}

  /** The starts of the evaluated sequences, or an empty list for a model without state inputs. */
  static List<Integer> starts(SweepSpec spec, Dataset eval, int samples) {
    int[] starts = eval.sequenceStarts();
    List<Integer> kept = new ArrayList<>();
    for (int start : starts) {
      if (start < samples) {
        kept.add(start);
      }
    }
    boolean onBoundary = samples == eval.samples() || java.util.Arrays.binarySearch(starts, samples) >= 0;
    if (starts.length > 0 && !onBoundary) {
      throw new SpecException(spec.specFile() + ": eval_samples " + spec.evalSamples() + " ends inside a sequence "
          + "(sequence_ids.npy): state is carried through whole sequences; make eval_samples a sequence boundary"
          + " or 0 (all frames)");
    }
    if (starts.length > 0 && spec.calibrationData() != null) {
      throw new SpecException(spec.specFile() + ": calibration_data with state inputs is not supported yet "
          + "(calibration statistics would have to carry state through sequences); remove calibration_data and use "
          + "uncalibrated methods");
    }
    return kept;
  }
}
