package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.compress.DenseWeights;
import dev.bitsweep.compress.LinearQuantizeConfig;
import dev.bitsweep.compress.LinearQuantizer;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.spec.SweepConfig;
import dev.bitsweep.spec.SweepSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A config's package as the pipeline sees it: ok, or failed with the reason, never an exception. */
class PackageWriterTest {
  private static final Path MODEL = Fixtures.digits().resolve("model.onnx");
  private static final SweepConfig INT8 = SweepConfig.of("int8", LinearQuantizeConfig.builder().build());

  @TempDir Path staging;

  private SweepPlan plan() {
    OnnxModel model = OnnxModel.read(MODEL);
    return new SweepPlan("s-1", MODEL.toString(), model.sha256(), model.fileBytes(), model.defaultOpset(), List.of(),
        "eval", "def", 540, 60, null, SweepSpec.Task.CLASSIFICATION, staging.toString(), List.of(), "v-test");
  }

  private static List<CompressedLayer> int8Layers() {
    OnnxModel model = OnnxModel.read(MODEL);
    List<CompressedLayer> layers = new ArrayList<>();
    for (Layer layer : LayerFinder.find(model.proto(), LayerFinder.DEFAULT_WEIGHT_THRESHOLD).layers()) {
      var weights = LinearQuantizer.quantize((LinearQuantizeConfig) INT8.global(), WeightReader.read(model, layer));
      layers.add(new CompressedLayer("int8", layer, weights, 40.0, 0.0, null, null, 0.5, null));
    }
    return layers;
  }

  @Test
  void aConfigWhoseLayersCompressedIsPackaged() throws Exception {
    List<CompressedLayer> layers = int8Layers();
    PackagedModel packaged = PackageWriter.write(plan(), INT8, layers);
    assertTrue(packaged.ok(), packaged.toString());
    assertEquals(staging.resolve("packages/int8/model.onnx").toString(), packaged.packagePath());
    assertEquals(Files.size(Path.of(packaged.packagePath())), packaged.compressedBytes());
    assertEquals(2, packaged.layersCompressed());
    assertEquals(1.0, packaged.compressSeconds(), 0.0);
    long stored = 0;
    for (LayerResult layer : packaged.layers()) {
      assertEquals("ok", layer.status(), layer.toString());
      assertTrue(layer.encoding().startsWith("quantize"), layer.toString());
      stored += layer.compressedBytes();
    }
    long params = layers.stream().mapToLong(l -> l.layer().params()).sum();
    assertEquals(8.0 * stored / params, packaged.bitsPerWeight(), 1e-12);
  }

  @Test
  void aFailedLayerFailsItsConfigWithTheLayersError() {
    List<CompressedLayer> layers = new ArrayList<>(int8Layers());
    CompressedLayer ok = layers.get(0);
    layers.set(1, new CompressedLayer("int8", layers.get(1).layer(), null, Double.NaN, Double.NaN, null, null, 0.25,
        "layer classifier.0.weight: too hard"));
    PackagedModel packaged = PackageWriter.write(plan(), INT8, layers);
    assertEquals(PackagedModel.FAILED, packaged.status());
    assertEquals("layer classifier.0.weight: too hard", packaged.error());
    assertNull(packaged.packagePath());
    assertEquals(List.of("not packaged", "failed"), packaged.layers().stream().map(LayerResult::status).toList());
    assertEquals(ok.weightSnrDb(), packaged.layers().get(0).weightSnrDb());
    assertTrue(Files.notExists(staging.resolve("packages")), "nothing is written for a failed config");
  }

  @Test
  void aPackageThatCannotBeWrittenIsAFailedConfigNotAFailedJob() throws Exception {
    Files.writeString(staging.resolve("packages"), "a file where the packages directory goes");
    PackagedModel packaged = PackageWriter.write(plan(), INT8, int8Layers());
    assertEquals(PackagedModel.FAILED, packaged.status());
    assertTrue(packaged.error().startsWith("packaging failed: "), packaged.error());
    assertEquals(List.of("not packaged", "not packaged"),
        packaged.layers().stream().map(LayerResult::status).toList());
  }

  @Test
  void aConfigThatAppliesToNoLayerIsAFailedConfigThatSaysSo() {
    PackagedModel packaged = PackageWriter.write(plan(), INT8, List.of());
    assertEquals(PackagedModel.FAILED, packaged.status());
    assertTrue(packaged.error().contains("applies to no layer"), packaged.error());
  }

  @Test
  void aDenseLayerPackagesFine() {
    OnnxModel model = OnnxModel.read(MODEL);
    Layer layer = LayerFinder.find(model.proto(), LayerFinder.DEFAULT_WEIGHT_THRESHOLD).layers().get(0);
    CompressedLayer dense = new CompressedLayer("int8", layer, new DenseWeights(WeightReader.read(model, layer)),
        Double.POSITIVE_INFINITY, 0.0, null, null, 0.1, null);
    PackagedModel packaged = PackageWriter.write(plan(), INT8, List.of(dense));
    assertTrue(packaged.ok(), packaged.toString());
    assertEquals(32.0, packaged.bitsPerWeight(), 0.5, "stored as it was, fp32");
  }
}
