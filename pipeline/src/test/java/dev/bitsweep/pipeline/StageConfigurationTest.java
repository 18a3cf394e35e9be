package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.spec.SweepConfig;
import dev.bitsweep.spec.SweepSpec;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.jupiter.api.Test;

/** The stages reject wrong configuration and wrongly wired inputs when the pipeline is built, not when it runs. */
class StageConfigurationTest {
  private static final SweepPlan PLAN = new SweepPlan("s-1", "/m.onnx", "abc", 1, 13, List.of(), "/eval", "def", 4,
      2, null, SweepSpec.Task.AGREEMENT, "/tmp/staging", List.of(), "v");

  @Test
  void compressLayersValidatesItsConfiguration() {
    assertThrows(NullPointerException.class, () -> CompressLayers.of(null, List.of()));
    assertThrows(NullPointerException.class, () -> CompressLayers.of(PLAN, List.of()).withStatistics(null));
    IllegalArgumentException threads = assertThrows(IllegalArgumentException.class,
        () -> CompressLayers.of(PLAN, List.of()).withThreadsPerTask(0));
    assertEquals("threads per task must be >= 1, got 0", threads.getMessage());
  }

  @Test
  void keyedStagesNameTheInputsTheyTake() {
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
    PCollection<KV<String, SweepConfig>> configs = pipeline.apply(Create.empty(
        KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(SweepConfig.class))));
    KeyedPCollectionTuple<String> onlyConfigs = KeyedPCollectionTuple.of(PackageModels.CONFIGS, configs);
    IllegalArgumentException packages = assertThrows(IllegalArgumentException.class,
        () -> onlyConfigs.apply(PackageModels.of(PLAN)));
    assertTrue(packages.getMessage().startsWith("PackageModels takes the keyed inputs"), packages.getMessage());
    assertTrue(packages.getMessage().contains("layers"), packages.getMessage());
    IllegalArgumentException results = assertThrows(IllegalArgumentException.class,
        () -> KeyedPCollectionTuple.of(WriteResults.CONFIGS, configs).apply(WriteResults.of(PLAN)));
    assertTrue(results.getMessage().contains("summaries"), results.getMessage());
    assertThrows(NullPointerException.class, () -> PackageModels.of(null));
    assertThrows(NullPointerException.class, () -> WriteResults.of(null));
    assertThrows(NullPointerException.class, () -> EvaluatePackages.of(null));
  }
}
