package dev.bitsweep.pipeline;

import dev.bitsweep.compress.WeightMatrix;
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
      WeightMatrix weights = WeightReader.read(model, layer);
      float[] values = weights.values();
      int bad = 0;
      int first = -1;
      for (int i = 0; i < values.length; i++) {
        if (!Float.isFinite(values[i])) {
          bad++;
          if (first < 0) {
            first = i;
          }
        }
      }
      if (bad > 0) {
        throw new ModelException("model " + modelFile + ": layer " + layer.name() + " " + layer.shapeText()
            + " has " + bad + " weight" + (bad == 1 ? "" : "s") + " that " + (bad == 1 ? "is" : "are")
            + " NaN or infinite (the first at flat index " + first + ": " + values[first] + "); fix the model, or"
            + " exclude the layer with a 'layers: {" + layer.name() + ": null}' rule");
      }
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
