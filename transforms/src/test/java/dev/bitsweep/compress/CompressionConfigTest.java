package dev.bitsweep.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.PalettizeConfig.Granularity;
import dev.bitsweep.compress.PalettizeConfig.LutDtype;
import dev.bitsweep.compress.PalettizeConfig.Mode;
import dev.bitsweep.methods.Methods;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class CompressionConfigTest {

  static List<CompressionConfig> examples() {
    List<CompressionConfig> configs = new ArrayList<>();
    configs.add(PalettizeConfig.kmeans(4));
    configs.add(PalettizeConfig.builder().nbits(6).perGroupedChannel(16).enablePerChannelScale(true)
        .lutDtype(LutDtype.INT8).build());
    configs.add(PalettizeConfig.builder().nbits(3).clusterDim(2).lutDtype(LutDtype.FP32).build());
    configs.add(PalettizeConfig.builder().mode(Mode.CUSTOM).nbits(2).customLut(List.of(-1.0, 0.0, 0.5)).build());
    configs.add(PalettizeConfig.builder().mode(Mode.UNIQUE).nbits(8).lutDtype(LutDtype.UINT8).build());
    configs.add(LinearQuantizeConfig.builder().build());
    configs.add(LinearQuantizeConfig.builder().mode(LinearQuantizeConfig.Mode.LINEAR).dtype(QuantDtype.UINT4)
        .perBlock(64).build());
    configs.add(PruneConfig.magnitude(0.75));
    configs.add(PruneConfig.builder().nmRatio(2, 4).joint(LinearQuantizeConfig.builder().build()).build());
    configs.add(PruneConfig.builder().targetSparsity(0.3).pruneBlockSize(4)
        .joint(PalettizeConfig.builder().nbits(2).perGroupedChannel(8).build()).build());
    configs.add(PruneConfig.builder().mode(PruneConfig.Mode.THRESHOLD).threshold(0.01).build());
    return configs;
  }

  @ParameterizedTest
  @MethodSource("examples")
  void roundTripsThroughItsFields(CompressionConfig config) throws Exception {
    assertEquals(config, Methods.ALL.parse(config.fields()));
    assertEquals(config.method(), config.fields().get("method"));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(config);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertEquals(config, in.readObject());
    }
  }

  @Test
  void fieldsListEveryFieldWithDefaults() {
    assertEquals(PalettizeConfig.FIELD_NAMES, List.copyOf(PalettizeConfig.kmeans(4).fields().keySet()));
    assertEquals(LinearQuantizeConfig.FIELD_NAMES, List.copyOf(LinearQuantizeConfig.builder().build().fields().keySet()));
    assertEquals(PruneConfig.FIELD_NAMES, List.copyOf(PruneConfig.magnitude(0.5).fields().keySet()));
    Map<String, Object> palettize = PalettizeConfig.builder().perGroupedChannel(16).build().fields();
    assertEquals("kmeans", palettize.get("mode"));
    assertEquals(4, palettize.get("nbits"));
    assertEquals("per_grouped_channel", palettize.get("granularity"));
    assertEquals(16, palettize.get("group_size"));
    assertEquals("fp16", palettize.get("lut_dtype"));
    assertNull(PalettizeConfig.kmeans(2).fields().get("group_size"));
    Map<String, Object> prune = PruneConfig.builder().build().fields();
    assertEquals(0.5, prune.get("target_sparsity"));
    assertNull(prune.get("threshold"));
    Map<String, Object> threshold = PruneConfig.builder().mode(PruneConfig.Mode.THRESHOLD).build().fields();
    assertEquals(1e-12, threshold.get("threshold"));
    assertEquals(0.5, threshold.get("minimum_sparsity_percentile"));
    assertEquals(32, LinearQuantizeConfig.builder().granularity(LinearQuantizeConfig.Granularity.PER_BLOCK).build()
        .fields().get("block_size"));
  }

  @Test
  void fromFieldsAppliesDefaultsAndAcceptsYamlNumbers() {
    Map<String, Object> fields = new HashMap<>();
    fields.put("method", "palettize");
    fields.put("nbits", 2L);
    fields.put("granularity", "per_grouped_channel");
    fields.put("group_size", 8.0);
    assertEquals(PalettizeConfig.builder().nbits(2).perGroupedChannel(8).build(), Methods.ALL.parse(fields));
    assertEquals(PruneConfig.magnitude(0.5), Methods.ALL.parse(Map.of("method", "prune")));
  }

  private static void assertRejected(String field, String messagePart, Supplier<?> build) {
    ConfigException e = assertThrows(ConfigException.class, build::get);
    assertEquals(field, e.field(), e.getMessage());
    assertTrue(e.getMessage().contains(messagePart), "'" + e.getMessage() + "' should contain '" + messagePart + "'");
  }

  private static Map<String, Object> fields(Object... keyValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      map.put((String) keyValues[i], keyValues[i + 1]);
    }
    return map;
  }

  @Test
  void fromFieldsRejectsUnknownKeysMethodsAndTypes() {
    assertRejected("method", "is required", () -> Methods.ALL.parse(fields("nbits", 4)));
    assertRejected("method", "did you mean 'palettize'", () -> Methods.ALL.parse(fields("method",
        "palletize")));
    assertRejected("method", "expected one of", () -> Methods.ALL.parse(fields("method", 3)));
    assertRejected("group_sise", "did you mean 'group_size'", () -> Methods.ALL.parse(fields(
        "method", "palettize", "group_sise", 16)));
    assertRejected("group_sise", "allowed fields are [method, mode, nbits", () -> Methods.ALL.parse(
        fields("method", "palettize", "group_sise", 16)));
    assertRejected("nbits", "expected an integer but got the string '4'", () -> Methods.ALL.parse(
        fields("method", "palettize", "nbits", "4")));
    assertRejected("nbits", "expected an integer", () -> Methods.ALL.parse(
        fields("method", "palettize", "nbits", 4.5)));
    assertRejected("mode", "did you mean 'kmeans'", () -> Methods.ALL.parse(
        fields("method", "palettize", "mode", "kmean")));
    assertRejected("enable_per_channel_scale", "expected true or false", () -> Methods.ALL.parse(
        fields("method", "palettize", "enable_per_channel_scale", "yes")));
    assertRejected("custom_lut", "a list of numbers", () -> Methods.ALL.parse(
        fields("method", "palettize", "mode", "custom", "custom_lut", List.of("a"))));
    assertRejected("target_sparsity", "expected a number", () -> Methods.ALL.parse(
        fields("method", "prune", "target_sparsity", "half")));
    assertRejected("n_m_ratio", "a list of integers", () -> Methods.ALL.parse(
        fields("method", "prune", "n_m_ratio", 2)));
    assertRejected("joint", "a map of fields", () -> Methods.ALL.parse(
        fields("method", "prune", "joint", "palettize")));
    assertRejected("joint.nbits", "is not supported", () -> Methods.ALL.parse(
        fields("method", "prune", "joint", fields("method", "palettize", "nbits", 5))));
    assertRejected("joint", "palettize or linear_quantize", () -> Methods.ALL.parse(
        fields("method", "prune", "joint", fields("method", "prune"))));
    assertRejected("dtype", "did you mean 'int4'", () -> Methods.ALL.parse(
        fields("method", "linear_quantize", "dtype", "int_4")));
  }

  @Test
  void palettizeConfigValidation() {
    assertRejected("nbits", "5 is not supported; expected one of [1, 2, 3, 4, 6, 8]",
        () -> PalettizeConfig.builder().nbits(5).build());
    assertRejected("group_size", "applies only to granularity per_grouped_channel",
        () -> PalettizeConfig.builder().groupSize(16).build());
    assertRejected("group_size", "at least 1", () -> PalettizeConfig.builder().perGroupedChannel(0).build());
    assertRejected("channel_axis", "only 0", () -> PalettizeConfig.builder().channelAxis(1).build());
    assertRejected("cluster_dim", "at least 1", () -> PalettizeConfig.builder().clusterDim(0).build());
    assertRejected("cluster_dim", "needs mode kmeans", () -> PalettizeConfig.builder().mode(Mode.UNIFORM)
        .clusterDim(2).build());
    assertRejected("enable_per_channel_scale", "set it to false", () -> PalettizeConfig.builder().mode(Mode.UNIQUE)
        .enablePerChannelScale(true).build());
    assertRejected("custom_lut", "non-empty", () -> PalettizeConfig.builder().mode(Mode.CUSTOM).build());
    assertRejected("custom_lut", "at most 4", () -> PalettizeConfig.builder().mode(Mode.CUSTOM).nbits(2)
        .customLut(List.of(1.0, 2.0, 3.0, 4.0, 5.0)).build());
    assertRejected("custom_lut", "finite", () -> PalettizeConfig.builder().mode(Mode.CUSTOM)
        .customLut(List.of(Double.NaN)).build());
    assertRejected("custom_lut", "fp16 range", () -> PalettizeConfig.builder().mode(Mode.CUSTOM)
        .customLut(List.of(1e6)).build());
    assertRejected("custom_lut", "applies only to mode custom", () -> PalettizeConfig.builder()
        .customLut(List.of(1.0)).build());
    assertRejected("mode", "is required", () -> new PalettizeConfig(null, 4, Granularity.PER_TENSOR, null, 0, false, 1,
        LutDtype.FP16, null, PalettizeConfig.Sensitivity.NONE));
    assertRejected("granularity", "is required", () -> new PalettizeConfig(Mode.KMEANS, 4, null, null, 0, false, 1,
        LutDtype.FP16, null, PalettizeConfig.Sensitivity.NONE));
    assertRejected("lut_dtype", "is required", () -> new PalettizeConfig(Mode.KMEANS, 4, Granularity.PER_TENSOR, null,
        0, false, 1, null, null, PalettizeConfig.Sensitivity.NONE));
    PalettizeConfig grouped = PalettizeConfig.builder().perGroupedChannel(16).clusterDim(4).build();
    assertRejected("group_size", "does not divide the 40 output channels", () -> {
      grouped.validateFor(40, 8);
      return null;
    });
    assertRejected("cluster_dim", "does not divide the 6 weights", () -> {
      grouped.validateFor(32, 6);
      return null;
    });
    grouped.validateFor(32, 8);
  }

  @Test
  void linearQuantizeConfigValidation() {
    assertRejected("block_size", "applies only to granularity per_block",
        () -> LinearQuantizeConfig.builder().blockSize(32).build());
    assertRejected("block_size", "at least 1", () -> LinearQuantizeConfig.builder().perBlock(0).build());
    assertRejected("mode", "is required", () -> new LinearQuantizeConfig(null, QuantDtype.INT8,
        LinearQuantizeConfig.Granularity.PER_CHANNEL, null));
    assertRejected("dtype", "is required", () -> new LinearQuantizeConfig(LinearQuantizeConfig.Mode.LINEAR, null,
        LinearQuantizeConfig.Granularity.PER_CHANNEL, null));
    assertRejected("granularity", "is required", () -> new LinearQuantizeConfig(LinearQuantizeConfig.Mode.LINEAR,
        QuantDtype.INT8, null, null));
    assertRejected("block_size", "larger than the 16 weights", () -> {
      LinearQuantizeConfig.builder().perBlock(32).build().validateFor(4, 16);
      return null;
    });
  }

  @Test
  void pruneConfigValidation() {
    assertRejected("target_sparsity", "[0, 1)", () -> PruneConfig.magnitude(1.0));
    assertRejected("target_sparsity", "[0, 1)", () -> PruneConfig.magnitude(-0.1));
    assertRejected("target_sparsity", "[0, 1)", () -> PruneConfig.magnitude(Double.NaN));
    assertRejected("n_m_ratio", "remove target_sparsity or n_m_ratio",
        () -> PruneConfig.builder().targetSparsity(0.5).nmRatio(2, 4).build());
    assertRejected("n_m_ratio", "cannot be combined with prune_block_size",
        () -> PruneConfig.builder().pruneBlockSize(4).nmRatio(2, 4).build());
    assertRejected("n_m_ratio", "two integers", () -> PruneConfig.builder().nmRatio(List.of(2)).build());
    assertRejected("n_m_ratio", "1 <= n < m", () -> PruneConfig.builder().nmRatio(4, 4).build());
    assertRejected("n_m_ratio", "1 <= n < m", () -> PruneConfig.builder().nmRatio(0, 4).build());
    assertRejected("prune_block_size", "at least 1", () -> PruneConfig.builder().pruneBlockSize(0).build());
    assertRejected("threshold", "does not apply to mode magnitude", () -> PruneConfig.builder().threshold(0.1).build());
    assertRejected("minimum_sparsity_percentile", "does not apply to mode magnitude",
        () -> PruneConfig.builder().minimumSparsityPercentile(0.1).build());
    PruneConfig.Builder threshold = PruneConfig.builder().mode(PruneConfig.Mode.THRESHOLD);
    assertRejected("target_sparsity", "does not apply to mode threshold", () -> PruneConfig.builder()
        .mode(PruneConfig.Mode.THRESHOLD).targetSparsity(0.5).build());
    assertRejected("prune_block_size", "does not apply to mode threshold", () -> PruneConfig.builder()
        .mode(PruneConfig.Mode.THRESHOLD).pruneBlockSize(2).build());
    assertRejected("n_m_ratio", "does not apply to mode threshold", () -> PruneConfig.builder()
        .mode(PruneConfig.Mode.THRESHOLD).nmRatio(1, 2).build());
    assertRejected("threshold", ">= 0", () -> threshold.threshold(-1.0).build());
    assertRejected("threshold", ">= 0", () -> threshold.threshold(Double.POSITIVE_INFINITY).build());
    assertRejected("minimum_sparsity_percentile", "[0, 1]", () -> PruneConfig.builder().mode(PruneConfig.Mode.THRESHOLD)
        .minimumSparsityPercentile(1.5).build());
    assertRejected("mode", "is required", () -> new PruneConfig(null, null, null, null, null, null, null));
    assertRejected("joint", "palettize or linear_quantize", () -> PruneConfig.builder()
        .joint(PruneConfig.magnitude(0.5)).build());
    assertRejected("prune_block_size", "larger than the 4 weights", () -> {
      PruneConfig.builder().pruneBlockSize(8).build().validateFor(2, 4);
      return null;
    });
    assertRejected("n_m_ratio", "m = 4 does not divide the 6 weights", () -> {
      PruneConfig.builder().nmRatio(2, 4).build().validateFor(2, 6);
      return null;
    });
    assertRejected("joint.cluster_dim", "does not divide", () -> {
      PruneConfig.builder().joint(PalettizeConfig.builder().clusterDim(4).build()).build().validateFor(2, 6);
      return null;
    });
  }
}
