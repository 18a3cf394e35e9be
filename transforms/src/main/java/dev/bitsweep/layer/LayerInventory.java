package dev.bitsweep.layer;

import java.io.Serializable;
import java.util.List;

/** The compressible layers of a model and the tensors that were skipped, with reasons. */
public record LayerInventory(List<Layer> layers, List<SkippedTensor> skipped) implements Serializable {
  public LayerInventory {
    layers = List.copyOf(layers);
    skipped = List.copyOf(skipped);
  }
}
