package dev.bitsweep.pipeline;

import java.io.Serializable;

/** One row of the layers table: a layer as compressed and encoded by one config. */
public record LayerResult(
    String configId,
    String layer,
    String opType,
    String shape,
    long params,
    long originalBytes,
    Long compressedBytes,
    String encoding,
    Double weightSnrDb,
    Double sparsity,
    Double outputError,
    Double percdampUsed,
    double seconds,
    String status,
    String error,
    String fallback)
    implements Serializable {

  public LayerResult(String configId, String layer, String opType, String shape, long params, long originalBytes,
      Long compressedBytes, String encoding, Double weightSnrDb, Double sparsity, Double outputError,
      Double percdampUsed, double seconds, String status, String error) {
    this(configId, layer, opType, shape, params, originalBytes, compressedBytes, encoding, weightSnrDb, sparsity,
        outputError, percdampUsed, seconds, status, error, null);
  }
}
