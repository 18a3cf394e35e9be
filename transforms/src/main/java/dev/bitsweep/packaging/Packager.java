package dev.bitsweep.packaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.onnx.GraphPath;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.encode.EncodedLayer;
import dev.bitsweep.onnx.encode.WeightEncoder;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one config's package into a directory: {@code model.onnx}, the original model with each compressed layer
 * replaced by its encoding (whose output keeps the weight's name and dtype, so consumers are untouched), and
 * {@code manifest.json}. The model file is written before the manifest, each atomically.
 */
public final class Packager {
  public static final String MODEL_FILE = "model.onnx";
  public static final String MANIFEST_FILE = "manifest.json";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** A written package. */
  public record Written(Path modelFile, long fileBytes, long storedBytes, long params, int minOpset,
      List<EncodedLayer> encodings) {
    public Written {
      encodings = List.copyOf(encodings);
    }

    /** Stored bits per weight over the compressed layers. */
    public double bitsPerWeight() {
      return 8.0 * storedBytes / params;
    }
  }

  private Packager() {}

  /**
   * @param layers at least one; each is encoded into a copy of {@code model}
   * @throws IllegalArgumentException when a layer cannot be encoded (its message names the layer)
   * @throws UncheckedIOException when the files cannot be written
   */
  public static Written write(OnnxModel model, List<LayerWeights> layers, Provenance provenance, Path dir) {
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("a package needs at least one compressed layer");
    }
    Onnx.ModelProto.Builder builder = model.proto().toBuilder();
    WeightEncoder encoder = WeightEncoder.forModel(builder);
    List<EncodedLayer> encodings = new ArrayList<>();
    List<Map<String, Object>> entries = new ArrayList<>();
    long storedBytes = 0;
    long params = 0;
    int minOpset = 1;
    for (LayerWeights compressed : layers) {
      Layer layer = compressed.layer();
      Onnx.GraphProto.Builder graph = GraphPath.resolve(model.proto().getGraph(), builder.getGraphBuilder(), layer.graphPath());
      EncodedLayer encoded = encoder.encode(graph, layer.tensorName(), layer.shape(), layer.outputAxis(),
          compressed.weights());
      encodings.add(encoded);
      storedBytes += encoded.storedBytes();
      params += layer.params();
      minOpset = Math.max(minOpset, encoded.minOpset());
      entries.add(manifestEntry(layer, encoded, compressed.weightSnrDb(), compressed.fallback()));
    }
    Path modelFile = dir.resolve(MODEL_FILE);
    try {
      Files.createDirectories(dir);
      AtomicFiles.write(modelFile, builder.build().toByteArray());
      Map<String, Object> manifest = manifest(provenance, entries, minOpset, model.defaultOpset());
      AtomicFiles.write(dir.resolve(MANIFEST_FILE), JSON.writeValueAsBytes(manifest));
      return new Written(modelFile, Files.size(modelFile), storedBytes, params, minOpset, encodings);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the package of " + provenance.configId() + " to " + dir, e);
    }
  }

  private static Map<String, Object> manifestEntry(Layer layer, EncodedLayer encoded, double weightSnrDb,
      String fallback) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("layer", layer.name());
    entry.put("op_type", layer.opType());
    entry.put("shape", layer.shape());
    entry.put("encoding", encoded.encoding());
    entry.put("min_opset", encoded.minOpset());
    entry.put("stored_bytes", encoded.storedBytes());
    entry.put("weight_snr_db", Double.isFinite(weightSnrDb) ? weightSnrDb : String.valueOf(weightSnrDb));
    entry.put("fallback", fallback);
    return entry;
  }

  private static Map<String, Object> manifest(Provenance provenance, List<Map<String, Object>> layers, int minOpset,
      int modelOpset) {
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("bitsweep_version", provenance.bitsweepVersion());
    manifest.put("sweep_id", provenance.sweepId());
    manifest.put("config_id", provenance.configId());
    manifest.put("source_model", Map.of("path", provenance.modelPath(), "sha256", provenance.modelSha256(),
        "bytes", provenance.modelBytes(), "opset", modelOpset));
    manifest.put("eval_data_sha256", provenance.evalDataSha256());
    manifest.put("calibration_data_sha256", provenance.calibrationDataSha256());
    manifest.put("config", provenance.config());
    manifest.put("requires", Map.of("default_opset", modelOpset, "encodings_min_opset", minOpset,
        "tested_runtime", ModelRunner.RUNTIME, "runtime_settings", ModelRunner.SETTINGS));
    manifest.put("layers", layers);
    List<Map<String, Object>> skipped = new ArrayList<>();
    provenance.skipped().forEach(s -> skipped.add(Map.of("tensor", s.name(), "shape", s.shape(), "reason", s.reason())));
    manifest.put("skipped", skipped);
    return manifest;
  }
}
