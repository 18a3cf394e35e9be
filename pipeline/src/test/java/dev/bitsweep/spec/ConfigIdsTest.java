package dev.bitsweep.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.methods.Methods;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Config ids name result directories and rows, so they must not change: each expected id below was produced by the
 * id rules before the method registry (where every method names its own configs), for the same fields.
 */
class ConfigIdsTest {
  private static final List<String> CASES = List.of(
      "palettize-kmeans-4bit-per_tensor | {\"method\":\"palettize\",\"nbits\":4}",
      "palettize-kmeans-2bit-per_grouped_channel-g16 | {\"method\":\"palettize\",\"nbits\":2,\"granularity\":\"per_grouped_channel\",\"group_size\":16}",
      "palettize-uniform-6bit-per_tensor | {\"method\":\"palettize\",\"nbits\":6,\"mode\":\"uniform\"}",
      "palettize-kmeans-4bit-per_tensor-cd2 | {\"method\":\"palettize\",\"nbits\":4,\"cluster_dim\":2}",
      "palettize-kmeans-4bit-per_tensor-pcs | {\"method\":\"palettize\",\"nbits\":4,\"cluster_dim\":1,\"enable_per_channel_scale\":true}",
      "palettize-kmeans-4bit-per_tensor-int8 | {\"method\":\"palettize\",\"nbits\":4,\"lut_dtype\":\"int8\"}",
      "palettize-kmeans-4bit-per_tensor-fp32-hessian | {\"method\":\"palettize\",\"nbits\":4,\"lut_dtype\":\"fp32\",\"sensitivity\":\"hessian\"}",
      "palettize-custom-2bit-per_tensor | {\"method\":\"palettize\",\"nbits\":2,\"mode\":\"custom\",\"custom_lut\":[0.1,-0.1]}",
      "palettize-unique-8bit-per_tensor | {\"method\":\"palettize\",\"nbits\":8,\"mode\":\"unique\"}",
      "palettize-kmeans-1bit-per_grouped_channel-g32 | {\"method\":\"palettize\",\"nbits\":1,\"granularity\":\"per_grouped_channel\"}",
      "linear_quantize-linear_symmetric-int8-per_channel | {\"method\":\"linear_quantize\"}",
      "linear_quantize-linear-uint8-per_tensor | {\"method\":\"linear_quantize\",\"mode\":\"linear\",\"dtype\":\"uint8\",\"granularity\":\"per_tensor\"}",
      "linear_quantize-linear_symmetric-int4-per_block-b32 | {\"method\":\"linear_quantize\",\"dtype\":\"int4\",\"granularity\":\"per_block\",\"block_size\":32}",
      "linear_quantize-linear_symmetric-uint4-per_block-b32 | {\"method\":\"linear_quantize\",\"dtype\":\"uint4\",\"granularity\":\"per_block\"}",
      "prune-magnitude-s50 | {\"method\":\"prune\"}",
      "prune-magnitude-s75 | {\"method\":\"prune\",\"target_sparsity\":0.75}",
      "prune-magnitude | {\"method\":\"prune\",\"target_sparsity\":0.0}",
      "prune-magnitude-b4-s50 | {\"method\":\"prune\",\"prune_block_size\":4,\"target_sparsity\":0.5}",
      "prune-magnitude-2_4 | {\"method\":\"prune\",\"n_m_ratio\":[2,4]}",
      "prune-threshold-1.0E-12 | {\"method\":\"prune\",\"mode\":\"threshold\"}",
      "prune-threshold-0.01 | {\"method\":\"prune\",\"mode\":\"threshold\",\"threshold\":0.01,\"minimum_sparsity_percentile\":0.3}",
      "prune-magnitude-s50+palettize-4bit | {\"method\":\"prune\",\"target_sparsity\":0.5,\"joint\":{\"method\":\"palettize\",\"nbits\":4}}",
      "prune-magnitude-1_2+linear_quantize-int8 | {\"method\":\"prune\",\"n_m_ratio\":[1,2],\"joint\":{\"method\":\"linear_quantize\",\"dtype\":\"int8\"}}",
      "prune-magnitude-s50+linear_quantize-int4 | {\"method\":\"prune\",\"joint\":{\"method\":\"linear_quantize\",\"dtype\":\"int4\",\"granularity\":\"per_block\",\"block_size\":16}}",
      "rtn-4bit | {\"method\":\"rtn\",\"nbits\":4}",
      "rtn-3bit-g32-asym | {\"method\":\"rtn\",\"nbits\":3,\"group_size\":32,\"symmetric\":false}",
      "gptq-4bit | {\"method\":\"gptq\",\"nbits\":4}",
      "gptq-4bit-g128 | {\"method\":\"gptq\",\"nbits\":4,\"group_size\":128}",
      "gptq-3bit-g64-actorder-asym | {\"method\":\"gptq\",\"nbits\":3,\"group_size\":64,\"act_order\":true,\"symmetric\":false}",
      "gptq-2bit-d0.1 | {\"method\":\"gptq\",\"nbits\":2,\"percdamp\":0.1}",
      "sparsegpt-s50 | {\"method\":\"sparsegpt\",\"target_sparsity\":0.5}",
      "sparsegpt-s50-2_4 | {\"method\":\"sparsegpt\",\"n_m_ratio\":[2,4]}",
      "sparsegpt-4bit-s60 | {\"method\":\"sparsegpt\",\"target_sparsity\":0.6,\"nbits\":4}",
      "sparsegpt-4bit-s50-asym-d0.05 | {\"method\":\"sparsegpt\",\"target_sparsity\":0.5,\"nbits\":4,\"symmetric\":false,\"percdamp\":0.05}",
      "sparsegpt-8bit-s50-2_4 | {\"method\":\"sparsegpt\",\"n_m_ratio\":[2,4],\"target_sparsity\":0.5,\"nbits\":8}");

  @Test
  void idsAreStable() throws Exception {
    ObjectMapper json = new ObjectMapper();
    for (String line : CASES) {
      String[] parts = line.split(" \\| ", 2);
      @SuppressWarnings("unchecked")
      Map<String, Object> fields = json.readValue(parts[1], Map.class);
      assertEquals(parts[0], ConfigIds.describe(Methods.ALL.parse(fields)), parts[1]);
    }
  }

  @Test
  void overridesAddAHashOfTheRules() {
    var global = Methods.ALL.parse(Map.of("method", "prune"));
    String withRule = ConfigIds.of(global, Map.of("Gather", global),
        List.of(new SweepConfig.LayerRule("fc.*", true, null)));
    assertEquals(true, withRule.matches("prune-magnitude-s50-o[0-9a-f]{6}"), withRule);
    assertEquals(withRule, ConfigIds.of(global, Map.of("Gather", global),
        List.of(new SweepConfig.LayerRule("fc.*", true, null))));
    String otherRule = ConfigIds.of(global, Map.of("Gather", global),
        List.of(new SweepConfig.LayerRule("fc.*", false, null)));
    assertEquals(false, withRule.equals(otherRule), otherRule);
  }
}
