package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.spec.SweepSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.BoundedSource;
import org.apache.beam.sdk.io.Read;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;

class LayerTaskSourceTest {
  private static final PipelineOptions OPTIONS = PipelineOptionsFactory.create();

  /** The digits demo: 13 configs, each applying to both layers (features.2 and classifier.0; two are below the threshold). */
  private static List<LayerTask> digitsTasks() {
    SweepSpec spec = SweepSpec.read(Fixtures.digits().resolve("sweep.yaml"));
    List<Layer> layers = LayerFinder.find(OnnxModel.read(spec.model()).proto(), spec.weightThreshold()).layers();
    return SweepPlanner.tasks(spec.configs(), layers);
  }

  private static List<String> read(BoundedSource<LayerTask> source) throws IOException {
    List<String> ids = new ArrayList<>();
    try (BoundedSource.BoundedReader<LayerTask> reader = source.createReader(OPTIONS)) {
      for (boolean more = reader.start(); more; more = reader.advance()) {
        ids.add(id(reader.getCurrent()));
      }
    }
    return ids;
  }

  private static String id(LayerTask task) {
    return task.configId() + "--" + task.layer().name();
  }

  @Test
  void tasksAreEveryApplicableConfigAndLayerConfigByConfig() {
    List<LayerTask> tasks = digitsTasks();
    assertEquals(26, tasks.size());
    assertEquals("palettize-kmeans-8bit-per_tensor--features.2.weight", id(tasks.get(0)));
    assertEquals("palettize-kmeans-8bit-per_tensor--classifier.0.weight", id(tasks.get(1)));
    assertEquals(tasks.get(2).configId(), tasks.get(3).configId());
  }

  @Test
  void splitsIntoOneSourcePerTaskWhateverTheBundleSize() throws IOException {
    List<LayerTask> tasks = digitsTasks();
    LayerTaskSource source = new LayerTaskSource(tasks);
    List<String> expected = tasks.stream().map(LayerTaskSourceTest::id).toList();
    assertEquals(expected, read(source));
    for (long bundleBytes : new long[] {1, 1 << 20, Long.MAX_VALUE}) {
      List<LayerTaskSource> splits = source.split(bundleBytes, OPTIONS);
      assertEquals(tasks.size(), splits.size());
      List<String> concatenated = new ArrayList<>();
      for (LayerTaskSource split : splits) {
        List<String> one = read(split);
        assertEquals(1, one.size());
        concatenated.addAll(one);
        assertEquals(List.of(split), split.split(1, OPTIONS), "a single task does not split further");
      }
      assertEquals(expected.stream().sorted().toList(), concatenated.stream().sorted().toList(), "each task once");
      for (int i = 1; i < splits.size(); i++) {
        assertTrue(TaskCost.seconds(splits.get(i - 1).tasks().get(0)) <= TaskCost.seconds(splits.get(i).tasks().get(0)),
            "cheapest first (Flink hands out the last split first)");
      }
      assertEquals("palettize-kmeans-4bit-per_grouped_channel-g16--classifier.0.weight",
          id(splits.get(splits.size() - 1).tasks().get(0)), "the heaviest task of the demo is handed out first");
    }
    long weightBytes = tasks.stream().mapToLong(t -> 4 * t.layer().params()).sum();
    assertEquals(weightBytes, source.getEstimatedSizeBytes(OPTIONS));
  }

  @Test
  void anEmptySourceReadsNothingAndTheReaderHasNoCurrentTaskOutsideItsRange() throws IOException {
    assertEquals(List.of(), read(new LayerTaskSource(List.of())));
    try (BoundedSource.BoundedReader<LayerTask> reader = new LayerTaskSource(digitsTasks().subList(0, 1))
        .createReader(OPTIONS)) {
      assertThrows(NoSuchElementException.class, reader::getCurrent);
      assertTrue(reader.start());
      assertEquals("palettize-kmeans-8bit-per_tensor--features.2.weight", id(reader.getCurrent()));
      assertFalse(reader.advance());
      assertThrows(NoSuchElementException.class, reader::getCurrent);
    }
  }

  @Test
  void aPipelineReadsEveryTaskExactlyOnce() {
    List<LayerTask> tasks = digitsTasks();
    Pipeline pipeline = Pipeline.create(OPTIONS);
    PCollection<String> ids = pipeline.apply(Read.from(new LayerTaskSource(tasks)))
        .apply(MapElements.into(TypeDescriptors.strings()).via(LayerTaskSourceTest::id));
    PAssert.that(ids).containsInAnyOrder(tasks.stream().map(LayerTaskSourceTest::id).toList());
    pipeline.run().waitUntilFinish();
  }
}
