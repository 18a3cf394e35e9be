package dev.bitsweep.methods;

import dev.bitsweep.compress.CompressedWeights;
import java.util.Objects;

/**
 * A compressed layer and what its algorithm reports about it.
 *
 * @param percdampUsed the Hessian damping GPTQ or SparseGPT needed to factor the inverse Hessian (the config's
 *     {@code percdamp}, raised on Cholesky failure); null for methods without one
 */
public record Compression(CompressedWeights weights, Double percdampUsed) {
  public Compression {
    Objects.requireNonNull(weights, "weights");
  }

  public static Compression of(CompressedWeights weights) {
    return new Compression(weights, null);
  }
}
