package dev.bitsweep.pipeline;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.layer.Layer;
import java.io.Serializable;

/** One layer to compress with one config of the sweep. */
public record LayerTask(String configId, Layer layer, CompressionConfig config) implements Serializable {}
