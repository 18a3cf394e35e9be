package dev.bitsweep.pipeline;

import dev.bitsweep.layer.Layer;
import dev.bitsweep.stats.CapturePlan;
import java.io.Serializable;
import java.util.List;

/**
 * The calibration statistics pass of a sweep: which layers get input statistics, from which samples, and where the
 * statistics are cached.
 *
 * @param dataPath the calibration data directory
 * @param samples how many of its samples (the first ones) to use
 * @param batchSize samples per ONNX Runtime run (one pipeline element each)
 * @param layers the layers that get statistics: every compressed layer with a MatMul/Gemm/Conv input
 * @param capture where each layer's input activation is
 * @param cacheDir the directory of this (model, data, samples) combination's statistics
 * @param cached true when every layer's statistics (and the activation histograms) are already in
 *     {@code cacheDir}: the pass is skipped
 * @param activations the activation tensors whose histograms are recorded (a {@link
 *     dev.bitsweep.activations.QdqPlan}'s tensors of the original model); empty when no config quantizes activations
 * @param sequenceStarts with state inputs, where each used sequence of the calibration data starts: a batch is then
 *     batchSize whole sequences; empty without state inputs
 */
public record CalibrationPlan(String dataPath, int samples, int batchSize, List<Layer> layers, CapturePlan capture,
    String cacheDir, boolean cached, List<String> activations, List<Integer> sequenceStarts) implements Serializable {

  public CalibrationPlan {
    layers = List.copyOf(layers);
    activations = List.copyOf(activations);
    sequenceStarts = List.copyOf(sequenceStarts);
  }

  /** A plan without state inputs. */
  public CalibrationPlan(String dataPath, int samples, int batchSize, List<Layer> layers, CapturePlan capture,
      String cacheDir, boolean cached, List<String> activations) {
    this(dataPath, samples, batchSize, layers, capture, cacheDir, cached, activations, List.of());
  }

  /** A plan without activation histograms. */
  public CalibrationPlan(String dataPath, int samples, int batchSize, List<Layer> layers, CapturePlan capture,
      String cacheDir, boolean cached) {
    this(dataPath, samples, batchSize, layers, capture, cacheDir, cached, List.of());
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
}
