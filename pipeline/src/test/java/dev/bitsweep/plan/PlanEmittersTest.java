package dev.bitsweep.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.spec.SweepConfig;
import dev.bitsweep.spec.SweepSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/** The plan's emitted files, read back by the spec reader and by SnakeYAML (an independent YAML parser). */
class PlanEmittersTest {
  @TempDir Path dir;

  private static final Map<String, Object> K4_G16 = fields(Map.of("method", "palettize", "mode", "kmeans", "nbits", 4,
      "granularity", "per_grouped_channel", "group_size", 16));
  private static final Map<String, Object> INT4_B32 = fields(Map.of("method", "linear_quantize", "mode",
      "linear_symmetric", "dtype", "int4", "granularity", "per_block", "block_size", 32));

  private static Map<String, Object> fields(Map<String, Object> given) {
    return Methods.ALL.parse(new LinkedHashMap<>(given)).fields();
  }

  private static List<Layer> digitsLayers() {
    return LayerFinder.find(OnnxModel.read(Fixtures.digits().resolve("model.onnx")).proto(), 2048).layers();
  }

  @Test
  void thePlansSpecReadsBackAsExactlyThePlan() throws Exception {
    List<Layer> layers = digitsLayers();
    assertEquals(2, layers.size());
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("name", "digits-plan");
    header.put("model", Fixtures.digits().toAbsolutePath().resolve("model.onnx").toString());
    header.put("task", "classification");
    header.put("eval_data", Fixtures.digits().toAbsolutePath().resolve("eval").toString());
    header.put("batch_size", 60L);
    Map<String, Map<String, Object>> plan = new LinkedHashMap<>();
    plan.put(layers.get(0).name(), K4_G16);
    plan.put(layers.get(1).name(), null);
    Path spec = dir.resolve("plan.yaml");
    Files.writeString(spec, PlanSpecWriter.write(header, "plan-1", plan));
    SweepSpec read = SweepSpec.read(spec);
    assertEquals(1, read.configs().size());
    SweepConfig config = read.configs().get(0);
    assertEquals("plan-1", config.configId());
    assertNull(config.global());
    CompressionConfig first = config.configFor(layers.get(0)).orElseThrow();
    assertEquals(K4_G16, first.fields());
    assertTrue(config.configFor(layers.get(1)).isEmpty(), "the fp32 layer stays original");
    assertEquals(60, read.batchSize());
  }

  @Test
  void aLayerNamedLikeAPatternIsMatchedExactly() {
    String key = PlanSpecWriter.ruleKey("re:odd.name");
    SweepConfig.LayerRule rule = new SweepConfig.LayerRule(key.substring(3), true, null);
    assertTrue(rule.matches("re:odd.name"));
    assertFalse(rule.matches("re:oddXname"));
    assertEquals("plain.weight", PlanSpecWriter.ruleKey("plain.weight"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void coremltoolsConfigsHaveTheKeysOptimizationConfigReadsAndNameOnlyExistingWeights() {
    List<Layer> layers = digitsLayers();
    Set<String> weights = Set.copyOf(layers.stream().map(Layer::name).toList());
    Map<String, Map<String, Object>> plan = new LinkedHashMap<>();
    plan.put(layers.get(0).name(), K4_G16);
    plan.put(layers.get(1).name(), INT4_B32);
    plan.put("gptq.layer", fields(Map.of("method", "gptq", "nbits", 4)));
    CoremlConfigWriter.Result result = CoremlConfigWriter.write(plan, 2048);
    assertEquals(Set.of("coremltools-palettize.yaml", "coremltools-linear_quantize.yaml"), result.files().keySet());
    assertTrue(result.notExpressible().get("gptq.layer").contains("calibration"));
    for (String text : result.files().values()) {
      Map<String, Object> doc = new Yaml().load(text);
      assertEquals(List.of("config_type", "global_config", "op_type_configs", "op_name_configs"), List.copyOf(doc.keySet()));
      String type = (String) doc.get("config_type");
      assertTrue(CoremlConfigWriter.FIELDS.containsKey(type), type);
      assertNull(doc.get("global_config"));
      assertEquals(Map.of(), doc.get("op_type_configs"));
      Map<String, Map<String, Object>> ops = (Map<String, Map<String, Object>>) doc.get("op_name_configs");
      assertFalse(ops.isEmpty());
      for (var op : ops.entrySet()) {
        assertTrue(weights.contains(op.getKey()), "names an existing weight: " + op.getKey());
        assertTrue(CoremlConfigWriter.FIELDS.get(type).containsAll(op.getValue().keySet()), op.toString());
        assertEquals(2048, op.getValue().get("weight_threshold"));
      }
      if (type.equals("OpPalettizerConfig")) {
        assertEquals(Map.of("mode", "kmeans", "nbits", 4, "granularity", "per_grouped_channel", "group_size", 16,
            "channel_axis", 0, "cluster_dim", 1, "enable_per_channel_scale", false, "weight_threshold", 2048),
            ops.get(layers.get(0).name()));
      } else {
        assertEquals("OpLinearQuantizerConfig", type);
        assertEquals(Map.of("mode", "linear_symmetric", "dtype", "int4", "granularity", "per_block", "block_size", 32,
            "weight_threshold", 2048), ops.get(layers.get(1).name()));
      }
    }
  }
}
