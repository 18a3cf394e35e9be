package dev.bitsweep.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.bitsweep.compress.CalibratedConfigFields;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.GraphPath;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.encode.EncodedLayer;
import dev.bitsweep.onnx.encode.WeightEncoder;
import dev.bitsweep.onnx.proto.Onnx;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.spec.SweepConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one config's packaged model: the original model with each compressed layer replaced by its ONNX encoding,
 * plus a manifest with provenance, the exact config and the per-layer encodings.
 */
public final class Packager {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Packager() {}

  public static Path packageDir(String stagingDir, String configId) {
    return Path.of(stagingDir, "packages", configId);
  }

  static PackagedModel write(SweepPlan plan, SweepConfig config, List<CompressedLayer> layers) {
    long start = System.nanoTime();
    double compressSeconds = layers.stream().mapToDouble(CompressedLayer::seconds).sum();
    String firstError = layers.stream().filter(CompressedLayer::failed).map(CompressedLayer::error).findFirst().orElse(null);
    if (layers.isEmpty()) {
      firstError = "the config applies to no layer of the model (its rules exclude every layer)";
    }
    if (firstError != null) {
      List<LayerResult> results = new ArrayList<>();
      for (CompressedLayer layer : layers) {
        results.add(result(layer, null, null, layer.failed() ? "failed" : "not packaged", layer.error()));
      }
      return new PackagedModel(config.configId(), PackagedModel.FAILED, firstError, null, 0, null, 0,
          compressSeconds, CompressLayers.seconds(start), results);
    }
    OnnxModel model = WorkerCache.model(plan.modelPath());
    Onnx.ModelProto.Builder builder = model.proto().toBuilder();
    int opset = model.defaultOpset();
    WeightEncoder encoder = WeightEncoder.forModel(builder);
    List<LayerResult> results = new ArrayList<>();
    List<Map<String, Object>> encodings = new ArrayList<>();
    long storedBytes = 0;
    long params = 0;
    int minOpset = 1;
    for (CompressedLayer compressed : layers) {
      Layer layer = compressed.layer();
      Onnx.GraphProto.Builder graph = GraphPath.resolve(model.proto().getGraph(), builder.getGraphBuilder(), layer.graphPath());
      EncodedLayer encoded = encoder.encode(graph, layer.tensorName(), layer.shape(), layer.outputAxis(),
          compressed.weights());
      if (layer.dataType() != DataType.FLOAT) {
        castBack(graph, layer);
      }
      storedBytes += encoded.storedBytes();
      params += layer.params();
      minOpset = Math.max(minOpset, encoded.minOpset());
      results.add(result(compressed, encoded.storedBytes(), encoded.encoding(), "ok", null));
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("layer", layer.name());
      entry.put("op_type", layer.opType());
      entry.put("shape", layer.shape());
      entry.put("encoding", encoded.encoding());
      entry.put("min_opset", encoded.minOpset());
      entry.put("stored_bytes", encoded.storedBytes());
      entry.put("weight_snr_db", finiteOrText(compressed.weightSnrDb()));
      encodings.add(entry);
    }
    Path dir = packageDir(plan.stagingDir(), config.configId());
    Path modelFile = dir.resolve("model.onnx");
    try {
      Files.createDirectories(dir);
      WorkerCache.forget(modelFile.toString());
      writeAtomically(modelFile, builder.build().toByteArray());
      Map<String, Object> manifest = manifest(plan, config, encodings, minOpset, opset);
      writeAtomically(dir.resolve("manifest.json"), JSON.writeValueAsBytes(manifest));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the package of " + config.configId() + " to " + dir, e);
    }
    long fileBytes;
    try {
      fileBytes = Files.size(modelFile);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new PackagedModel(config.configId(), PackagedModel.OK, null, modelFile.toString(), fileBytes,
        8.0 * storedBytes / params, layers.size(), compressSeconds, CompressLayers.seconds(start), results);
  }

  private static LayerResult result(CompressedLayer c, Long storedBytes, String encoding, String status, String error) {
    Layer layer = c.layer();
    long originalBytes = layer.params() * DataType.byteWidth(layer.dataType());
    return new LayerResult(c.configId(), layer.name(), layer.opType(), layer.shapeText(), layer.params(), originalBytes,
        storedBytes, encoding, c.failed() ? null : c.weightSnrDb(), c.failed() ? null : c.sparsity(), c.outputError(),
        c.seconds(), status, error);
  }

  /** Compressed encodings decode to float32; fp16/bf16 layers get a Cast back to their own type. */
  private static void castBack(Onnx.GraphProto.Builder graph, Layer layer) {
    String decoded = layer.tensorName() + "_bitsweep_float";
    for (int i = 0; i < graph.getNodeCount(); i++) {
      Onnx.NodeProto.Builder node = graph.getNodeBuilder(i);
      for (int o = 0; o < node.getOutputCount(); o++) {
        if (node.getOutput(o).equals(layer.tensorName())) {
          node.setOutput(o, decoded);
          graph.addNode(i + 1, Onnx.NodeProto.newBuilder()
              .setOpType("Cast")
              .setName(layer.tensorName() + "_bitsweep_cast")
              .addInput(decoded)
              .addOutput(layer.tensorName())
              .addAttribute(Onnx.AttributeProto.newBuilder().setName("to").setType(Onnx.AttributeProto.AttributeType.INT)
                  .setI(layer.dataType())));
          return;
        }
      }
    }
    throw new IllegalStateException("the encoding of " + layer.name() + " produced no node named " + layer.tensorName());
  }

  private static Map<String, Object> manifest(SweepPlan plan, SweepConfig config, List<Map<String, Object>> encodings,
      int minOpset, int modelOpset) {
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("bitsweep_version", plan.bitsweepVersion());
    manifest.put("sweep_id", plan.sweepId());
    manifest.put("config_id", config.configId());
    manifest.put("source_model", Map.of("path", plan.modelPath(), "sha256", plan.modelSha256(), "bytes", plan.modelBytes(),
        "opset", modelOpset));
    manifest.put("eval_data_sha256", plan.evalDataSha256());
    manifest.put("calibration_data_sha256", plan.calibrationDataSha256());
    manifest.put("config", describe(config));
    manifest.put("requires", Map.of("default_opset", modelOpset, "encodings_min_opset", minOpset,
        "tested_runtime", ModelRunner.RUNTIME, "runtime_settings", ModelRunner.SETTINGS));
    manifest.put("layers", encodings);
    List<Map<String, Object>> skipped = new ArrayList<>();
    plan.skipped().forEach(s -> skipped.add(Map.of("tensor", s.name(), "shape", s.shape(), "reason", s.reason())));
    manifest.put("skipped", skipped);
    return manifest;
  }

  public static Map<String, Object> describe(SweepConfig config) {
    Map<String, Object> described = new LinkedHashMap<>();
    described.put("global", config.global() == null ? null : CalibratedConfigFields.withMethod(config.global()));
    Map<String, Object> ops = new LinkedHashMap<>();
    config.opTypes().forEach((op, c) -> ops.put(op, c == null ? null : CalibratedConfigFields.withMethod(c)));
    described.put("op_types", ops);
    Map<String, Object> layers = new LinkedHashMap<>();
    config.layerRules().forEach(r -> layers.put((r.regex() ? "re:" : "") + r.name(), r.config() == null ? null : CalibratedConfigFields.withMethod(r.config())));
    described.put("layers", layers);
    return described;
  }

  private static Object finiteOrText(double value) {
    return Double.isFinite(value) ? value : String.valueOf(value);
  }

  static void writeAtomically(Path file, byte[] bytes) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + Thread.currentThread().getId());
    Files.write(temp, bytes);
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
