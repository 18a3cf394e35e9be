package dev.bitsweep.pipeline;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.layer.Layer;
import java.io.Serializable;

/**
 * A layer compressed with one config, with its weight-space metrics; or the error that stopped it
 * ({@code weights == null}).
 */
public record CompressedLayer(
    String configId,
    Layer layer,
    CompressedWeights weights,
    double weightSnrDb,
    double sparsity,
    Double outputError,
    double seconds,
    String error)
    implements Serializable {

  public boolean failed() {
    return error != null;
  }
}
