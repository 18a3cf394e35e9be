package dev.bitsweep.pipeline;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.spec.SpecException;
import dev.bitsweep.spec.SweepSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The batches that fan out (evaluation tasks, calibration batches): batch_size samples each or, with state inputs,
 * batch_size whole sequences each (sequences are the unit of fan-out; a sequence never spans two batches). Checks
 * here what the layout needs of the spec's counts.
 */
final class SequenceBatches {
  private SequenceBatches() {}

  /**
   * The starts of the used sequences of {@code data}, or an empty list for a model without state inputs; the used
   * samples must end on a sequence boundary, and a model's fixed batch must divide batch_size and the samples.
   *
   * @param field the spec field that set {@code samples} (eval_samples, calibration_samples), for messages
   */
  static List<Integer> starts(SweepSpec spec, String field, Dataset data, List<ModelInput> inputs, int samples) {
    checkFixedBatch(spec, field, data, inputs, samples);
    int[] starts = data.sequenceStarts();
    List<Integer> kept = new ArrayList<>();
    for (int start : starts) {
      if (start < samples) {
        kept.add(start);
      }
    }
    boolean onBoundary = samples == data.samples() || Arrays.binarySearch(starts, samples) >= 0;
    if (starts.length > 0 && !onBoundary) {
      int before = kept.get(kept.size() - 1);
      int after = Arrays.stream(starts).filter(s -> s > samples).findFirst().orElse(data.samples());
      throw new SpecException(spec.specFile() + ": " + field + " " + samples + " ends inside a sequence of "
          + data.directory() + " (frames " + before + ".." + after + " in sequence_ids.npy): state is carried through "
          + "whole sequences; make " + field + " a sequence boundary (" + before + " or " + after + ") or 0 (all "
          + "frames)");
    }
    return kept;
  }

  /** Every run of a model that fixes its batch takes exactly that many samples, so batches must be multiples. */
  private static void checkFixedBatch(SweepSpec spec, String field, Dataset data, List<ModelInput> inputs,
      int samples) {
    int fixed = data.fixedBatch();
    if (fixed <= 1) {
      return;
    }
    String owner = inputs.stream().filter(i -> i.feed().fromFile())
        .filter(i -> i.shape()[data.batchAxis(i.name())] == fixed).map(ModelInput::name).findFirst().orElse("?");
    if (spec.batchSize() % fixed != 0 || samples % fixed != 0) {
      throw new SpecException(spec.specFile() + ": model input '" + owner + "' fixes its batch at " + fixed + " (axis "
          + data.batchAxis(owner) + "), so every run takes exactly " + fixed + " samples: batch_size (" + spec.batchSize()
          + ") and " + field + " (" + samples + " used of " + data.directory() + ") must be multiples of " + fixed
          + "; change them, or export the model with a symbolic batch");
    }
  }

  static int count(int samples, int batchSize, List<Integer> starts) {
    int units = starts.isEmpty() ? samples : starts.size();
    return (units + batchSize - 1) / batchSize;
  }

  static int start(int batch, int batchSize, List<Integer> starts) {
    return starts.isEmpty() ? batch * batchSize : starts.get(batch * batchSize);
  }

  static int end(int batch, int samples, int batchSize, List<Integer> starts) {
    int next = (batch + 1) * batchSize;
    if (starts.isEmpty()) {
      return Math.min(samples, next);
    }
    return next < starts.size() ? starts.get(next) : samples;
  }
}
