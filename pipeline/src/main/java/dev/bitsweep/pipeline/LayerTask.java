package dev.bitsweep.pipeline;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.layer.Layer;
import java.io.Serializable;

/**
 * One layer to compress with one config of the sweep.
 *
 * @param fallback what the config's fallback changed to make it fit the layer (e.g. {@code nearest: group_size 16 ->
 *     13}), or null when the config applies as written
 */
public record LayerTask(String configId, Layer layer, CompressionConfig config, String fallback) implements Serializable {

  public LayerTask(String configId, Layer layer, CompressionConfig config) {
    this(configId, layer, config, null);
  }
}
