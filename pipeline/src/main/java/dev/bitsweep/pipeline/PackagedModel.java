package dev.bitsweep.pipeline;

import java.io.Serializable;
import java.util.List;

/** The packaged model of one config (or why there is none) and its layers' results. */
public record PackagedModel(
    String configId,
    String status,
    String error,
    String packagePath,
    long compressedBytes,
    Double bitsPerWeight,
    int layersCompressed,
    double compressSeconds,
    double packageSeconds,
    List<LayerResult> layers)
    implements Serializable {

  public static final String OK = "ok";
  public static final String FAILED = "failed";

  public PackagedModel {
    layers = List.copyOf(layers);
  }

  public boolean ok() {
    return OK.equals(status);
  }
}
