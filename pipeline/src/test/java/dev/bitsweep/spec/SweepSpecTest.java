package dev.bitsweep.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.PalettizeConfig;
import dev.bitsweep.compress.PruneConfig;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.methods.Methods;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading sweep specs: grid expansion, rule precedence, defaults, and errors that name file, line and key. */
class SweepSpecTest {
  private static final String HEADER = "model: model.onnx\neval_data: data\n";

  @TempDir
  Path dir;

  private SweepSpec read(String yaml) throws IOException {
    Path file = dir.resolve("spec.yaml");
    Files.writeString(file, HEADER + yaml);
    return SweepSpec.read(file);
  }

  private String error(String yaml) {
    return assertThrows(SpecException.class, () -> read(yaml)).getMessage();
  }

  private static List<String> ids(SweepSpec spec) {
    return spec.configs().stream().map(SweepConfig::configId).toList();
  }

  private static Layer layer(String name, String opType) {
    return new Layer(name, name, opType, new long[] {64, 64}, 1, 0, "", Layer.Storage.INITIALIZER);
  }

  @Test
  void gridIsTheCartesianProductOfItsListValues() throws IOException {
    SweepSpec spec = read("""
        grid:
          - method: palettize
            nbits: [4, 2]
            granularity: [per_tensor, per_grouped_channel]
        """);
    assertEquals(List.of("palettize-kmeans-4bit-per_tensor", "palettize-kmeans-4bit-per_grouped_channel-g32",
        "palettize-kmeans-2bit-per_tensor", "palettize-kmeans-2bit-per_grouped_channel-g32"), ids(spec));
  }

  @Test
  void listValuedFieldsDoNotVaryUnlessGivenAsAListOfLists() throws IOException {
    SweepSpec spec = read("""
        grid:
          - method: palettize
            mode: custom
            nbits: [1, 2]
            custom_lut: [-0.5, 0.5]
          - method: prune
            n_m_ratio: [[2, 4], [1, 4]]
          - method: sparsegpt
            n_m_ratio: [2, 4]
        """);
    assertEquals(List.of("palettize-custom-1bit-per_tensor", "palettize-custom-2bit-per_tensor",
        "prune-magnitude-2_4", "prune-magnitude-1_4", "sparsegpt-s50-2_4"), ids(spec));
    assertEquals(List.of(-0.5, 0.5), ((PalettizeConfig) spec.configs().get(0).global()).customLut());
    assertEquals(new dev.bitsweep.compress.NmRatio(1, 4), ((PruneConfig) spec.configs().get(3).global()).nmRatio());
  }

  /** The same custom table under configs: and under grid: (the grid once rejected it as a list of tables). */
  @Test
  void customLutInAGridMeansWhatItMeansUnderConfigs() throws IOException {
    String fields = "method: palettize\n    mode: custom\n    nbits: 2\n    custom_lut: [-1.0, 0.0, 1.0]\n";
    SweepSpec configs = read("configs:\n  - " + fields);
    SweepSpec grid = read("grid:\n  - " + fields);
    assertEquals(configs.configs(), grid.configs());
  }

  @Test
  void layerRuleBeatsOpTypeRuleBeatsGlobal() throws IOException {
    SweepConfig config = read("""
        configs:
          - id: mixed
            method: linear_quantize
            op_types:
              Gather: null
              Conv: {method: palettize, nbits: 4}
            layers:
              "re:enc\\\\..*": {method: palettize, nbits: 2}
              enc.skip: null
              enc.conv: {method: prune, target_sparsity: 0.5}
        """).configs().get(0);
    CompressionConfig int8 = Methods.ALL.parse(Map.of("method", "linear_quantize"));
    assertEquals(int8, config.configFor(layer("dec.fc", "MatMul")).orElseThrow());
    assertTrue(config.configFor(layer("dec.embed", "Gather")).isEmpty());
    assertEquals(PalettizeConfig.kmeans(4), config.configFor(layer("dec.conv", "Conv")).orElseThrow());
    // layer rules beat op types, the last matching layer rule wins
    assertEquals(PalettizeConfig.kmeans(2), config.configFor(layer("enc.embed", "Gather")).orElseThrow());
    assertTrue(config.configFor(layer("enc.skip", "MatMul")).isEmpty());
    assertEquals(PruneConfig.magnitude(0.5), config.configFor(layer("enc.conv", "Conv")).orElseThrow());
    // a regular expression matches the whole name
    assertEquals(int8, config.configFor(layer("xenc.fc", "MatMul")).orElseThrow());
  }

  @Test
  void defaultsAndExplicitValues() throws IOException {
    SweepSpec spec = read("configs:\n  - method: prune\n");
    assertEquals(LayerFinder.DEFAULT_WEIGHT_THRESHOLD, spec.weightThreshold());
    assertEquals("spec", spec.name());
    assertEquals(SweepSpec.Task.AGREEMENT, spec.task());
    assertNull(spec.calibrationData());
    assertEquals(100, read("weight_threshold: 100\nconfigs:\n  - method: prune\n").weightThreshold());
    assertEquals(1L << 30, spec.packageExternalDataBytes());
    assertEquals(4096, read("package_external_data_bytes: 4096\nconfigs:\n  - method: prune\n")
        .packageExternalDataBytes());
  }

  @Test
  void theExternalDataThresholdIsAtLeastOneByte() {
    assertEquals(dir.resolve("spec.yaml") + ":3: package_external_data_bytes: package_external_data_bytes must be >= 1"
        + " (packages larger than this many bytes are written with external data; default 1073741824)",
        error("package_external_data_bytes: 0\nconfigs:\n  - method: prune\n"));
  }

  @Test
  void errorsNameFileLineAndKey() {
    String file = dir.resolve("spec.yaml").toString();
    assertEquals(file + ":5: configs[0].nbit: unknown field for method palettize; allowed fields are [method, mode, "
        + "nbits, granularity, group_size, channel_axis, enable_per_channel_scale, cluster_dim, lut_dtype, custom_lut, "
        + "sensitivity] (did you mean 'nbits'?)", error("configs:\n  - method: palettize\n    nbit: 4\n"));
    assertEquals(file + ":4: grid[0].id: grid entries get their ids generated; use 'configs' for a config with an "
        + "explicit id", error("grid:\n  - id: x\n    method: prune\n"));
    String duplicate = error("configs:\n  - method: prune\ngrid:\n  - method: prune\n    target_sparsity: 0.5\n");
    assertTrue(duplicate.startsWith(file + ":6: grid[0]: config id 'prune-magnitude-s50' is produced twice (also at "
        + "line 4)"), duplicate);
    String regex = error("configs:\n  - id: r\n    layers:\n      \"re:(\": {method: prune}\n");
    assertTrue(regex.startsWith(file + ":6: configs[0].layers.re:(: layer pattern '(' is not a valid regular "
        + "expression"), regex);
    assertEquals(file + ":6: configs[0].target_sparsity: must be in [0, 1), got 1.5",
        error("configs:\n  - method: prune\n    mode: magnitude\n    target_sparsity: 1.5\n"));
    assertTrue(error("configs:\n  - nbits: 4\n").startsWith(file + ":4: configs[0]: method: is required; expected "
        + "one of [palettize, linear_quantize, prune, rtn, gptq, sparsegpt]"), error("configs:\n  - nbits: 4\n"));
    String badName = error("name: bad/name\nconfigs:\n  - method: prune\n");
    assertTrue(badName.startsWith(file + ":3: name: 'bad/name' must start with a letter or digit and use only letters, digits"), badName);
  }

  /** block_size means only the quantization block; its old meanings point to their new names. */
  @Test
  void renamedFieldsSayWhatToWriteInstead() {
    assertTrue(error("configs:\n  - method: gptq\n    nbits: 4\n    block_size: 64\n")
        .endsWith(":6: configs[0].block_size: unknown field for method gptq: the lazy column batch is now "
            + "lazy_batch_size (block_size names only the quantization block)"));
    assertTrue(error("configs:\n  - method: prune\n    block_size: 4\n")
        .contains("configs[0].block_size: unknown field for method prune: the pruning block is now prune_block_size"));
  }
}
