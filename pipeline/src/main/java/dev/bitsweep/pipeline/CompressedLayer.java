package dev.bitsweep.pipeline;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.layer.Layer;
import java.io.Serializable;

/**
 * A layer compressed with one config, with its weight-space metrics and the Hessian damping its method needed
 * (GPTQ, SparseGPT; else null); or the error that stopped it ({@code weights == null}); {@code fallback} as in
 * {@link LayerTask}.
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
    String fallback)
    implements Serializable {

  /** A layer compressed with its config as written. */
  public CompressedLayer(String configId, Layer layer, CompressedWeights weights, double weightSnrDb, double sparsity,
      Double outputError, Double percdampUsed, double seconds, String error) {
    this(configId, layer, weights, weightSnrDb, sparsity, outputError, percdampUsed, seconds, error, null);
  }

  public boolean failed() {
    return error != null;
  }
}
