package dev.bitsweep.pipeline;

import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model problems found before any job runs, so that they are bad input (exit 2, one line) instead of a job whose
 * every row failed: weights that are not finite, and models ONNX Runtime will not load.
 */
final class ModelChecks {
  /** The oldest default-domain opset ONNX Runtime loads. */
  static final int MIN_OPSET = 7;

  private ModelChecks() {}

  /** Every layer a task compresses, read one at a time (never the whole model's weights at once). */
  static void checkFiniteWeights(Path modelFile, OnnxModel model, List<LayerTask> tasks) {
    Map<String, Layer> compressed = new LinkedHashMap<>();
    tasks.forEach(task -> compressed.putIfAbsent(task.layer().name(), task.layer()));
    for (Layer layer : compressed.values()) {
      WeightReader.read(model, layer); // refuses NaN and infinite weights, naming the layer and the index
    }
  }

  /** Opens (and closes) an ONNX Runtime session on the original model: a graph it rejects fails here. */
  static void checkRuntimeLoads(Path modelFile, List<ModelInput> inputs) {
    try (ModelRunner runner = ModelRunner.open(modelFile, inputs)) {
      runner.outputName();
    } catch (ModelException e) {
      String message = e.getMessage().replace('\n', ' ').trim();
      throw new ModelException(message + "; bitsweep evaluates every package against the original model with"
          + " ONNX Runtime, so it must load", e);
    }
  }
}
