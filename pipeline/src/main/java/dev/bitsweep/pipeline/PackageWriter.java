package dev.bitsweep.pipeline;

import dev.bitsweep.activations.ActivationHistogram;
import dev.bitsweep.activations.ActivationQuantConfig;
import dev.bitsweep.activations.ActivationQuantizer;
import dev.bitsweep.activations.QdqInserter;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.encode.EncodedLayer;
import dev.bitsweep.packaging.LayerWeights;
import dev.bitsweep.packaging.Packager;
import dev.bitsweep.packaging.Provenance;
import dev.bitsweep.spec.SweepConfig;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One config's package, from its compressed layers, as {@link PackagedModel}: written by {@link Packager} when every
 * layer compressed, else (or when it cannot be written) a failed one whose error says why.
 */
final class PackageWriter {
  private PackageWriter() {}

  static Path packageDir(String stagingDir, String configId) {
    return Path.of(stagingDir, "packages", configId);
  }

  /** @param layers the config's compressed layers, in layer-name order */
  static PackagedModel write(SweepPlan plan, SweepConfig config, List<CompressedLayer> layers) {
    return write(plan, config, layers, null);
  }

  /**
   * @param activations where the activation histograms are cached; required when {@code config} quantizes
   *     activations
   */
  static PackagedModel write(SweepPlan plan, SweepConfig config, List<CompressedLayer> layers,
      CalibrationPlan activations) {
    long start = System.nanoTime();
    double compressSeconds = layers.stream().mapToDouble(CompressedLayer::seconds).sum();
    String error = layers.stream().filter(CompressedLayer::failed).map(CompressedLayer::error).findFirst().orElse(null);
    if (layers.isEmpty() && !config.activationsOnly()) {
      error = "the config applies to no layer of the model (its rules exclude every layer)";
    }
    if (error == null) {
      try {
        Packager.Written written = Packager.write(WorkerCache.model(plan.modelPath()), weights(plan, layers),
            provenance(plan, config), forgotten(packageDir(plan.stagingDir(), config.configId())),
            config.quantizesActivations() ? activationStep(plan, config, activations) : null,
            plan.packageExternalDataBytes());
        List<LayerResult> results = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
          EncodedLayer encoded = written.encodings().get(i);
          results.add(result(layers.get(i), encoded.storedBytes(), encoded.encoding(), "ok", null));
        }
        return new PackagedModel(config.configId(), PackagedModel.OK, null, written.modelFile().toString(),
            written.fileBytes(), layers.isEmpty() ? null : written.bitsPerWeight(), layers.size(), compressSeconds,
            CompressLayers.seconds(start), results);
      } catch (RuntimeException e) {
        error = "packaging failed: " + SweepRunner.rootMessage(e);
      }
    }
    List<LayerResult> results = new ArrayList<>();
    for (CompressedLayer layer : layers) {
      results.add(result(layer, null, null, layer.failed() ? "failed" : "not packaged", layer.error()));
    }
    return new PackagedModel(config.configId(), PackagedModel.FAILED, error, null, 0, null, 0, compressSeconds,
        CompressLayers.seconds(start), results);
  }

  /** QDQ pairs from the cached histograms, after the weight encoding (see {@link ActivationQuantizer#quantize}). */
  private static Packager.ActivationStep activationStep(SweepPlan plan, SweepConfig config,
      CalibrationPlan calibration) {
    if (calibration == null || calibration.activations().isEmpty()) {
      throw new IllegalStateException("config " + config.configId() + " quantizes activations but the sweep recorded "
          + "no activation histograms");
    }
    Map<String, ActivationHistogram> histograms = StatisticsCache.readActivations(Path.of(calibration.cacheDir()),
        calibration.activations());
    ActivationQuantConfig settings = config.activations();
    return new Packager.ActivationStep(model -> ActivationQuantizer.quantize(model, histograms, settings),
        settings.fields(), QdqInserter.MIN_OPSET, SessionSettings.QDQ_FUSED.text());
  }

  /**
   * The layers' weights, each read from the layer store only when the packager reaches it, so that one config's
   * compressed layers are never all in the heap at once.
   */
  private static List<LayerWeights> weights(SweepPlan plan, List<CompressedLayer> layers) {
    return new AbstractList<>() {
      @Override
      public LayerWeights get(int index) {
        CompressedLayer layer = layers.get(index);
        return new LayerWeights(layer.layer(), layer.weights(plan.stagingDir()), layer.weightSnrDb(),
            layer.fallback());
      }

      @Override
      public int size() {
        return layers.size();
      }
    };
  }

  private static Provenance provenance(SweepPlan plan, SweepConfig config) {
    return new Provenance(plan.bitsweepVersion(), plan.sweepId(), config.configId(), plan.modelPath(),
        plan.modelSha256(), plan.modelBytes(), plan.evalDataSha256(), plan.calibrationDataSha256(),
        ConfigDescription.of(config), plan.skippedBy(config.configId()));
  }

  /** A rewritten package must not be served from this worker's cache of loaded models. */
  private static Path forgotten(Path dir) {
    EvalSessions.forget(dir.resolve(Packager.MODEL_FILE).toString());
    return dir;
  }

  private static LayerResult result(CompressedLayer c, Long storedBytes, String encoding, String status, String error) {
    Layer layer = c.layer();
    long originalBytes = layer.params() * DataType.byteWidth(layer.dataType());
    return new LayerResult(c.configId(), layer.name(), layer.opType(), layer.shapeText(), layer.params(), originalBytes,
        storedBytes, encoding, c.failed() ? null : c.weightSnrDb(), c.failed() ? null : c.sparsity(), c.outputError(),
        c.percdampUsed(), c.seconds(), status, error, c.fallback());
  }
}
