package dev.bitsweep.packaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.onnx.GraphPath;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.encode.EncodedLayer;
import dev.bitsweep.onnx.encode.WeightEncoder;
import dev.bitsweep.onnx.external.ByteSource;
import dev.bitsweep.onnx.external.ExternalDataWriter;
import dev.bitsweep.onnx.external.FileRegion;
import dev.bitsweep.onnx.external.ModelSize;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Writes one config's package into a directory: {@code model.onnx}, the original model with each compressed layer
 * replaced by its encoding (whose output keeps the weight's name and dtype, so consumers are untouched), and
 * {@code manifest.json}. The model file is written before the manifest, each atomically.
 *
 * <p>A package uses ONNX external data ({@code model.onnx} plus {@code model.onnx.data} beside it, tensors of at
 * least 1 KiB at 4 KiB-aligned offsets, streamed by {@link ExternalDataWriter}) when the source model keeps any
 * tensor externally or when the package inline would be larger than the external-data threshold (1 GiB by default);
 * otherwise it is one self-contained {@code model.onnx}.
 */
public final class Packager {
  public static final String MODEL_FILE = "model.onnx";
  public static final String MANIFEST_FILE = "manifest.json";
  /** The external data file of a package that uses external data, beside {@link #MODEL_FILE}. */
  public static final String DATA_FILE = MODEL_FILE + ".data";
  /** Packages larger than this inline are written with external data. */
  public static final long DEFAULT_EXTERNAL_DATA_BYTES = 1L << 30;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * A written package.
   *
   * @param fileBytes the package's size on disk: model.onnx plus its data file
   * @param dataFile the external data file, or null when the package is one self-contained model.onnx
   */
  public record Written(Path modelFile, long fileBytes, long storedBytes, long params, int minOpset,
      List<EncodedLayer> encodings, Path dataFile) {
    public Written {
      encodings = List.copyOf(encodings);
    }

    /** Stored bits per weight over the compressed layers (NaN when no layer is compressed). */
    public double bitsPerWeight() {
      return params == 0 ? Double.NaN : 8.0 * storedBytes / params;
    }
  }

  /**
   * The activation-quantization step of a package: the rewrite of the weight-encoded model, what the manifest says
   * about it, the opset it needs and the ONNX Runtime settings it is measured (and meant to be run) with.
   */
  public record ActivationStep(UnaryOperator<Onnx.ModelProto> rewrite, Map<String, Object> description, int minOpset,
      String runtimeSettings) {}

  private Packager() {}

  /**
   * @param layers at least one; each is encoded into a copy of {@code model}
   * @throws IllegalArgumentException when a layer cannot be encoded (its message names the layer)
   * @throws UncheckedIOException when the files cannot be written
   */
  public static Written write(OnnxModel model, List<LayerWeights> layers, Provenance provenance, Path dir) {
    return write(model, layers, provenance, dir, null, DEFAULT_EXTERNAL_DATA_BYTES);
  }

  /**
   * A package whose activations are quantized too: after the weight encoding, {@code activations} rewrites the
   * model (QDQ insertion); the manifest records its description and the session settings it is measured with.
   *
   * @param activations null for a weight-only package (at least one layer then); else it may have no layers
   * @param externalDataBytes a package whose inline model.onnx would be larger than this many bytes is written with
   *     external data (at least 1)
   */
  public static Written write(OnnxModel model, List<LayerWeights> layers, Provenance provenance, Path dir,
      ActivationStep activations, long externalDataBytes) {
    if (externalDataBytes < 1) {
      throw new IllegalArgumentException("the external-data threshold must be at least 1 byte, got " + externalDataBytes);
    }
    if (layers.isEmpty() && activations == null) {
      throw new IllegalArgumentException("a package needs at least one compressed layer");
    }
    Onnx.ModelProto.Builder builder = model.proto().toBuilder();
    WeightEncoder encoder = WeightEncoder.forModel(builder);
    List<EncodedLayer> encodings = new ArrayList<>();
    List<Map<String, Object>> entries = new ArrayList<>();
    long storedBytes = 0;
    long params = 0;
    int minOpset = 1;
    Path modelFile = dir.resolve(MODEL_FILE);
    // A package that will use external data anyway moves each layer's encoded bytes out of the heap as soon as the
    // layer is encoded; the activation rewrite needs the whole graph, so those packages keep them until the end.
    boolean spill = activations == null && usesExternalData(model);
    try (Spill spilled = spill ? Spill.open(dir) : null) {
      for (LayerWeights compressed : layers) {
        Layer layer = compressed.layer();
        Onnx.GraphProto.Builder graph = GraphPath.resolve(model.proto().getGraph(), builder.getGraphBuilder(),
            layer.graphPath());
        Set<String> before = spill ? initializerNames(graph) : Set.of();
        EncodedLayer encoded = encoder.encode(graph, layer.tensorName(), layer.shape(), layer.outputAxis(),
            compressed.weights());
        if (spill) {
          spilled.moveNew(graph, before);
        }
        encodings.add(encoded);
        storedBytes += encoded.storedBytes();
        params += layer.params();
        minOpset = Math.max(minOpset, encoded.minOpset());
        entries.add(manifestEntry(layer, encoded, compressed.weightSnrDb(), compressed.fallback()));
      }
      Onnx.ModelProto packaged = builder.build();
      Files.createDirectories(dir);
      if (activations != null) {
        packaged = activations.rewrite().apply(packaged);
        minOpset = Math.max(minOpset, activations.minOpset());
      }
      Path dataFile = null;
      long fileBytes;
      if (usesExternalData(model) || inlineBytes(packaged) > externalDataBytes) {
        ExternalDataWriter.Result result = ExternalDataWriter.write(packaged, model.directory(),
            spill ? spilled.regions() : Map.of(), modelFile);
        dataFile = result.dataFile();
        fileBytes = result.totalBytes();
      } else {
        AtomicFiles.write(modelFile, packaged.toByteArray());
        Files.deleteIfExists(dir.resolve(DATA_FILE));
        fileBytes = Files.size(modelFile);
      }
      Map<String, Object> manifest = manifest(provenance, entries, minOpset, model.defaultOpset());
      if (activations != null) {
        manifest.put("activations", activations.description());
        @SuppressWarnings("unchecked")
        Map<String, Object> requires = new LinkedHashMap<>((Map<String, Object>) manifest.get("requires"));
        requires.put("runtime_settings", activations.runtimeSettings());
        manifest.put("requires", requires);
      }
      if (dataFile != null) {
        manifest.put("external_data", Map.of("file", DATA_FILE, "bytes", Files.size(dataFile),
            "alignment", ExternalDataWriter.ALIGNMENT));
      }
      AtomicFiles.write(dir.resolve(MANIFEST_FILE), JSON.writeValueAsBytes(manifest));
      return new Written(modelFile, fileBytes, storedBytes, params, minOpset, encodings, dataFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the package of " + provenance.configId() + " to " + dir, e);
    }
  }

  private static Set<String> initializerNames(Onnx.GraphProto.Builder graph) {
    Set<String> names = new HashSet<>();
    graph.getInitializerList().forEach(t -> names.add(t.getName()));
    return names;
  }

  /**
   * A scratch file in the package directory that holds encoded tensors between their encoding and the writing of
   * the data file, which copies them from here (the kernel's transferTo); removed when the package is written.
   */
  private static final class Spill implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final Map<String, ByteSource> regions = new HashMap<>();

    private Spill(Path file, FileChannel channel) {
      this.file = file;
      this.channel = channel;
    }

    static Spill open(Path dir) throws IOException {
      Files.createDirectories(dir);
      Path file = dir.resolve(".spill-" + ProcessHandle.current().pid() + "-" + Thread.currentThread().getId());
      return new Spill(file, FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ));
    }

    /** Moves the raw bytes of the graph's initializers not in {@code before} (of 1 KiB and more) to the file. */
    void moveNew(Onnx.GraphProto.Builder graph, Set<String> before) throws IOException {
      for (Onnx.TensorProto.Builder tensor : graph.getInitializerBuilderList()) {
        if (before.contains(tensor.getName()) || !tensor.hasRawData()
            || tensor.getRawData().size() < ExternalDataWriter.DEFAULT_INLINE_LIMIT) {
          continue;
        }
        long offset = channel.position();
        ByteBuffer bytes = tensor.getRawData().asReadOnlyByteBuffer();
        while (bytes.hasRemaining()) {
          channel.write(bytes);
        }
        regions.put(tensor.getName(), new FileRegion(file, offset, channel.position() - offset));
        tensor.clearRawData();
      }
    }

    Map<String, ByteSource> regions() throws IOException {
      channel.force(false);
      return regions;
    }

    @Override
    public void close() throws IOException {
      try {
        channel.close();
      } finally {
        Files.deleteIfExists(file);
      }
    }
  }

  private static boolean usesExternalData(OnnxModel model) {
    return !ModelSize.externalFiles(model.path(), model.proto()).isEmpty();
  }

  /** The size of the package as one model.onnx; protobuf's int size wraps above 2 GiB, which counts as too big. */
  private static long inlineBytes(Onnx.ModelProto packaged) {
    int size = packaged.getSerializedSize();
    return size < 0 ? Long.MAX_VALUE : size;
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
    manifest.put("source_model", ordered("path", provenance.modelPath(), "sha256", provenance.modelSha256(),
        "bytes", provenance.modelBytes(), "opset", modelOpset));
    manifest.put("eval_data_sha256", provenance.evalDataSha256());
    manifest.put("calibration_data_sha256", provenance.calibrationDataSha256());
    manifest.put("config", provenance.config());
    manifest.put("requires", ordered("default_opset", modelOpset, "encodings_min_opset", minOpset,
        "tested_runtime", ModelRunner.RUNTIME, "runtime_settings", ModelRunner.SETTINGS));
    manifest.put("layers", layers);
    List<Map<String, Object>> skipped = new ArrayList<>();
    provenance.skipped().forEach(s -> skipped.add(ordered("tensor", s.name(), "shape", s.shape(), "reason", s.reason())));
    manifest.put("skipped", skipped);
    return manifest;
  }

  /** Keys in the order given, so that the same inputs give the same manifest bytes. */
  private static Map<String, Object> ordered(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }
}
