package dev.bitsweep.pipeline;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.layer.Layer;
import java.io.Serializable;

/**
 * A layer compressed with one config, with its weight-space metrics and the Hessian damping its method needed
 * (GPTQ, SparseGPT; else null); or the error that stopped it ({@code weights == null}); {@code fallback} as in
 * {@link LayerTask}.
 *
 * <p>Between compression and packaging the weights are not in the element: {@link #stored} replaces them by their
 * key in the sweep's {@link LayerStore}, so that shuffles carry only metadata.
 *
 * @param weightsKey the {@link LayerStore} key of the weights when {@code weights} is null and the layer did not fail
 */
public record CompressedLayer(
    String configId,
    Layer layer,
    CompressedWeights weights,
    double weightSnrDb,
    double sparsity,
    Double outputError,
    Double percdampUsed,
    double seconds,
    String error,
    String fallback,
    String weightsKey)
    implements Serializable {

  /** A layer compressed with its config as written, carrying its weights (or failed). */
  public CompressedLayer(String configId, Layer layer, CompressedWeights weights, double weightSnrDb, double sparsity,
      Double outputError, Double percdampUsed, double seconds, String error) {
    this(configId, layer, weights, weightSnrDb, sparsity, outputError, percdampUsed, seconds, error, null, null);
  }

  public boolean failed() {
    return error != null;
  }

  /** This layer with its weights replaced by their key in the layer store. */
  public CompressedLayer stored(String key) {
    return new CompressedLayer(configId, layer, null, weightSnrDb, sparsity, outputError, percdampUsed, seconds, error,
        fallback, key);
  }

  /** This layer's weights: its own, or read from the layer store of {@code stagingDir}. */
  CompressedWeights weights(String stagingDir) {
    if (weights != null) {
      return weights;
    }
    if (weightsKey == null) {
      throw new IllegalStateException("layer " + layer.name() + " of config " + configId + " has no weights");
    }
    return LayerStore.get(stagingDir, weightsKey);
  }
}
