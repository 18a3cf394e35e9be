package dev.bitsweep.pipeline;

import dev.bitsweep.layer.Layer;
import dev.bitsweep.stats.CaptureGroups;
import dev.bitsweep.stats.CapturePlan;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * The calibration statistics pass of a sweep: which layers get input statistics, from which samples, which Hessians
 * that takes (layers reading the same tensor share one), how they are captured, and where the statistics are cached.
 *
 * <p>The work is split into (capture group, chunk) tasks: a capture group is a set of Hessians that fits the memory
 * budget together ({@link CaptureGroups}); a chunk is a fixed contiguous run of calibration batches, summed in batch
 * order by one task. Chunks depend only on the batch count, never on the budget, so the Hessians are the same bits
 * however the layers are grouped and whichever runner runs the tasks.
 *
 * @param dataPath the calibration data directory
 * @param samples how many of its samples (the first ones) to use
 * @param batchSize samples per ONNX Runtime run
 * @param layers the layers that get statistics: every compressed layer with a MatMul/Gemm/Conv input
 * @param capture where each layer's input activation is
 * @param cacheDir the directory of this (model, data, samples) combination's statistics
 * @param cached true when every Hessian (and the activation histograms) is already in {@code cacheDir}: the pass is
 *     skipped
 * @param activations the activation tensors whose histograms are recorded (a {@link
 *     dev.bitsweep.activations.QdqPlan}'s tensors of the original model); empty when no config quantizes activations
 * @param sequenceStarts with state inputs, where each used sequence of the calibration data starts: a batch is then
 *     batchSize whole sequences; empty without state inputs
 * @param hessianOf for each of {@code layers}, the name of the Hessian it reads: the first layer of the model with the
 *     same input ({@link CapturePlan#hessianOwners}), possibly one this sweep leaves alone
 * @param captureGroups the Hessians (named by their first layer), in groups captured by separate runs of the model
 * @param captureBudgetBytes the memory budget the groups were made for
 */
public record CalibrationPlan(String dataPath, int samples, int batchSize, List<Layer> layers, CapturePlan capture,
    String cacheDir, boolean cached, List<String> activations, List<Integer> sequenceStarts, Map<String, String> hessianOf,
    List<List<Layer>> captureGroups, long captureBudgetBytes) implements Serializable {
  /** Contiguous runs of batches the calibration data is cut into (fewer when there are fewer batches). */
  static final int CHUNKS = 4;

  public CalibrationPlan {
    layers = List.copyOf(layers);
    activations = List.copyOf(activations);
    sequenceStarts = List.copyOf(sequenceStarts);
    hessianOf = Map.copyOf(hessianOf);
    captureGroups = captureGroups.stream().map(List::copyOf).toList();
  }

  public int batchCount() {
    return SequenceBatches.count(samples, batchSize, sequenceStarts);
  }

  public int batchStart(int batch) {
    return SequenceBatches.start(batch, batchSize, sequenceStarts);
  }

  public int batchEnd(int batch) {
    return SequenceBatches.end(batch, samples, batchSize, sequenceStarts);
  }

  /** The Hessians to compute, in model order. */
  public List<Layer> hessians() {
    return captureGroups.stream().flatMap(List::stream).toList();
  }

  public List<String> hessianNames() {
    return hessians().stream().map(Layer::name).toList();
  }

  /** The Hessian a layer reads. */
  public String hessianOf(String layer) {
    String hessian = hessianOf.get(layer);
    if (hessian == null) {
      throw new IllegalArgumentException("layer " + layer + " has no input statistics in this sweep");
    }
    return hessian;
  }

  /** Capture tasks per group: at most {@link #CHUNKS}, at most one per batch. */
  public int chunkCount() {
    return Math.min(CHUNKS, batchCount());
  }

  /** The first batch of chunk {@code chunk}; chunk {@code c} covers {@code [firstBatch(c), firstBatch(c + 1))}. */
  public int firstBatch(int chunk) {
    return (int) ((long) chunk * batchCount() / chunkCount());
  }

  /** The groups that the histogram recording runs with: the first (an empty one when there are no Hessians). */
  public int groupCount() {
    return Math.max(1, captureGroups.size());
  }

  public List<Layer> captureGroup(int group) {
    return captureGroups.isEmpty() ? List.of() : captureGroups.get(group);
  }
}
