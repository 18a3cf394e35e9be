package dev.bitsweep.onnx.encode;

import java.util.List;
import java.util.stream.Collectors;

/**
 * How one weight was written into the model: for the manifest.
 *
 * @param tensorName the weight, still the name its consumers read
 * @param encoding family and components, e.g. {@code palettize/unpack-arith+lut-fp16+layout}
 * @param components the catalog entries used, in decode order
 * @param ops the op types of the decode subgraph (empty for a plain initializer)
 * @param minOpset the lowest default-domain opset this encoding can be built for
 * @param minOrtVersion the oldest ONNX Runtime that decodes it (see {@link EncodingCatalog})
 * @param storedBytes the bytes the encoding adds to the model file: its initializers and decode nodes as serialized
 *     in the graph, field framing included (not IR 3's graph-input entries of those initializers); a value shared by
 *     several weights' decodes counts with the first
 * @param payloadBytes the theoretical payload ({@code CompressedWeights.payloadBytes()})
 * @param notes why a less compact or less preferred form was chosen, empty when none was needed
 */
public record EncodedLayer(
    String tensorName,
    String encoding,
    List<EncodingCatalog> components,
    List<String> ops,
    int minOpset,
    String minOrtVersion,
    long storedBytes,
    long payloadBytes,
    List<String> notes) {

  public EncodedLayer {
    components = List.copyOf(components);
    ops = List.copyOf(ops);
    notes = List.copyOf(notes);
  }

  static EncodedLayer of(String tensorName, String family, List<EncodingCatalog> components, List<String> ops,
      long storedBytes, long payloadBytes, List<String> notes) {
    String encoding = family + "/" + components.stream().map(EncodingCatalog::id).collect(Collectors.joining("+"));
    int minOpset = components.stream().mapToInt(EncodingCatalog::minOpset).max().orElse(1);
    return new EncodedLayer(tensorName, encoding, components, ops, minOpset, EncodingCatalog.newestOrt(components),
        storedBytes, payloadBytes, notes);
  }
}
