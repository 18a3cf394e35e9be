package dev.bitsweep.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OptimizationConfigTest {
  private static final CompressionConfig GLOBAL = PalettizeConfig.kmeans(4);
  private static final CompressionConfig CONV = LinearQuantizeConfig.builder().build();
  private static final CompressionConfig ENCODER = PruneConfig.magnitude(0.5);
  private static final CompressionConfig FC1 = PalettizeConfig.kmeans(8);

  private static OptimizationConfig example() {
    return OptimizationConfig.builder()
        .global(GLOBAL)
        .opType("Conv", CONV)
        .opType("Gather", null)
        .layerPattern("encoder\\..*", ENCODER)
        .layerName("encoder.fc1", FC1)
        .layerPattern("encoder\\.skip.*", null)
        .build();
  }

  @Test
  void mostSpecificLevelWinsAndLaterLayerRulesOverrideEarlierOnes() {
    OptimizationConfig config = example();
    assertEquals(Optional.of(GLOBAL), config.configFor("decoder.fc", "MatMul", 10_000));
    assertEquals(Optional.of(CONV), config.configFor("decoder.conv", "Conv", 10_000));
    assertEquals(Optional.empty(), config.configFor("embeddings", "Gather", 10_000));
    assertEquals(Optional.of(ENCODER), config.configFor("encoder.conv", "Conv", 10_000));
    assertEquals(Optional.of(FC1), config.configFor("encoder.fc1", "MatMul", 10_000));
    assertEquals(Optional.empty(), config.configFor("encoder.skip1", "MatMul", 10_000));
    // patterns match whole names only
    assertEquals(Optional.of(GLOBAL), config.configFor("xencoder.fc", "MatMul", 10_000));
  }

  @Test
  void layersAtOrBelowTheWeightThresholdAreSkipped() {
    OptimizationConfig config = example();
    assertEquals(Optional.empty(), config.configFor("decoder.fc", "MatMul", 2048));
    assertEquals(Optional.of(GLOBAL), config.configFor("decoder.fc", "MatMul", 2049));
    OptimizationConfig everything = OptimizationConfig.builder().global(GLOBAL).weightThreshold(0).build();
    assertEquals(Optional.of(GLOBAL), everything.configFor("tiny", "MatMul", 1));
    assertEquals(Optional.empty(), OptimizationConfig.builder().build().configFor("any", "MatMul", 1 << 20));
  }

  @Test
  void isSerializableAndComparable() throws Exception {
    OptimizationConfig config = example();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(config);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      OptimizationConfig copy = (OptimizationConfig) in.readObject();
      assertEquals(config, copy);
      assertEquals(Optional.of(FC1), copy.configFor("encoder.fc1", "MatMul", 10_000));
    }
  }

  @Test
  void roundTripsThroughItsFields() {
    OptimizationConfig config = OptimizationConfig.builder().global(GLOBAL).opType("Conv", CONV).opType("Gather", null)
        .layerPattern("encoder\\..*", ENCODER).layerName("encoder.fc1", FC1).weightThreshold(100).build();
    assertEquals(config, OptimizationConfig.fromFields(config.fields()));
    assertEquals(example(), OptimizationConfig.fromFields(example().fields()));
  }

  @Test
  void fromFieldsNamesTheFaultyField() {
    assertEquals("weight_treshold", assertThrows(ConfigException.class,
        () -> OptimizationConfig.fromFields(java.util.Map.of("weight_treshold", 5))).field());
    assertEquals("global.nbits", assertThrows(ConfigException.class, () -> OptimizationConfig.fromFields(
        java.util.Map.of("global", java.util.Map.of("method", "palettize", "nbits", 7)))).field());
    assertEquals("op_type_configs.Conv", assertThrows(ConfigException.class, () -> OptimizationConfig.fromFields(
        java.util.Map.of("op_type_configs", java.util.Map.of("Conv", "int8")))).field());
    assertEquals("layer_configs[0]", assertThrows(ConfigException.class, () -> OptimizationConfig.fromFields(
        java.util.Map.of("layer_configs", java.util.List.of(java.util.Map.of("config", java.util.Map.of()))))).field());
    assertEquals("layer_configs[0].config.method", assertThrows(ConfigException.class,
        () -> OptimizationConfig.fromFields(java.util.Map.of("layer_configs", java.util.List.of(
            java.util.Map.of("name", "fc", "config", java.util.Map.of("nbits", 4)))))).field());
    assertEquals("layer_configs[0].confg", assertThrows(ConfigException.class,
        () -> OptimizationConfig.fromFields(java.util.Map.of("layer_configs", java.util.List.of(
            java.util.Map.of("name", "fc", "confg", java.util.Map.of()))))).field());
    assertEquals("weight_threshold", assertThrows(ConfigException.class,
        () -> OptimizationConfig.fromFields(java.util.Map.of("weight_threshold", "many"))).field());
  }

  @Test
  void badRulesAreRejected() {
    assertEquals("layer_patterns", assertThrows(ConfigException.class,
        () -> OptimizationConfig.builder().layerPattern("encoder.(", GLOBAL)).field());
    assertEquals("weight_threshold", assertThrows(ConfigException.class,
        () -> OptimizationConfig.builder().weightThreshold(-1)).field());
    assertEquals("op_type_configs", assertThrows(ConfigException.class,
        () -> OptimizationConfig.builder().opType("", GLOBAL)).field());
    assertEquals("layer_configs", assertThrows(ConfigException.class,
        () -> OptimizationConfig.builder().layerName("", GLOBAL)).field());
  }
}
