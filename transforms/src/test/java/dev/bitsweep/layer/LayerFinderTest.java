package dev.bitsweep.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.TestModels;
import dev.bitsweep.onnx.OnnxModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The layers found in each structural fixture equal the list written independently by the fixture script. */
class LayerFinderTest {
  private static final JsonNode EXPECTED = readExpected();

  private static JsonNode readExpected() {
    try {
      return new ObjectMapper().readTree(TestModels.model("expected-layers.json").toFile());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static Stream<String> models() {
    List<String> names = new ArrayList<>();
    EXPECTED.fieldNames().forEachRemaining(names::add);
    return names.stream().filter(n -> !EXPECTED.get(n).path("broken").asBoolean(false));
  }

  @ParameterizedTest
  @MethodSource("models")
  void findsExactlyTheExpectedLayers(String file) {
    JsonNode expected = EXPECTED.get(file);
    OnnxModel model = OnnxModel.read(TestModels.model(file));
    assertEquals(expected.get("opset").asInt(), model.defaultOpset());
    LayerInventory inventory = LayerFinder.find(model.proto(), LayerFinder.DEFAULT_WEIGHT_THRESHOLD);

    Map<String, String> expectedLayers = new TreeMap<>();
    for (JsonNode layer : expected.get("layers")) {
      long[] shape = new long[layer.get("shape").size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = layer.get("shape").get(i).asLong();
      }
      expectedLayers.put(layer.get("name").asText(),
          layer.get("op").asText() + " " + Arrays.toString(shape) + " axis " + layer.get("output_axis").asInt()
              + (layer.get("graph").asText().equals("main") ? " main" : " subgraph"));
    }
    Map<String, String> found = new TreeMap<>();
    for (Layer layer : inventory.layers()) {
      found.put(layer.tensorName(), layer.opType() + " " + Arrays.toString(layer.shape()) + " axis " + layer.outputAxis()
          + (layer.graphPath().isEmpty() ? " main" : " subgraph"));
    }
    assertEquals(expectedLayers, found, file);

    List<String> expectedSkips = new ArrayList<>();
    expected.get("skipped").forEach(s -> expectedSkips.add(s.isObject() ? s.get("name").asText() : s.asText()));
    List<String> skipped = inventory.skipped().stream().map(SkippedTensor::name).sorted().toList();
    assertEquals(expectedSkips.stream().sorted().toList(), skipped, file);
  }

  @Test
  void reportsWhyTensorsAreSkipped() {
    LayerInventory quantized = LayerFinder.find(OnnxModel.read(TestModels.model("already_int8_opset13.onnx")).proto(), 2048);
    assertTrue(quantized.skipped().stream().filter(s -> s.name().endsWith("_quantized"))
        .allMatch(s -> s.reason().startsWith("already quantized (INT8")), quantized.skipped().toString());
    // coremltools' rule: only tensors with more than weight_threshold elements are compressed
    assertEquals("at weight_threshold (2048 elements; only tensors with more are compressed)",
        quantized.skipped().stream().filter(s -> s.name().equals("fc3.weight")).findFirst().orElseThrow().reason());
    assertEquals(List.of("fc3.weight"), LayerFinder.find(OnnxModel.read(TestModels.model("already_int8_opset13.onnx"))
        .proto(), 2047).layers().stream().map(Layer::name).toList());
    LayerInventory small = LayerFinder.find(OnnxModel.read(TestModels.model("no_layers_opset13.onnx")).proto(), 2048);
    assertTrue(small.layers().isEmpty());
    assertTrue(small.skipped().stream().allMatch(s -> s.reason().matches("below weight_threshold \\(\\d+ < 2048 elements\\)")),
        small.skipped().toString());
    LayerInventory depthwise = LayerFinder.find(OnnxModel.read(TestModels.model("conv_variants_opset17.onnx")).proto(), 2048);
    assertEquals("below weight_threshold (288 < 2048 elements)",
        depthwise.skipped().stream().filter(s -> s.name().equals("depthwise.weight")).findFirst().orElseThrow().reason());
  }

  @Test
  void weightThresholdIsConfigurable() {
    OnnxModel model = OnnxModel.read(TestModels.model("conv_variants_opset17.onnx"));
    assertEquals(4, LayerFinder.find(model.proto(), 0).layers().size());
    assertEquals(1, LayerFinder.find(model.proto(), 20_000).layers().size());
  }
}
