package dev.bitsweep.onnx.external;

import com.google.protobuf.ByteString;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Writes a model as {@code model.onnx} plus one external data file beside it ({@code model.onnx.data}), every
 * external tensor at an offset aligned to {@link #ALIGNMENT} bytes, streaming each tensor's bytes from where they
 * live: a replacement {@link ByteSource} (e.g. a compressed layer in a store), the source model's own external data
 * files, or inline {@code raw_data} (which {@link MappedModel} keeps in a memory map). The heap holds the graph
 * structure only.
 *
 * <p>Initializers (in every graph and subgraph) with at least {@code inlineLimit} data bytes go to the data file;
 * smaller ones stay inline in the .onnx. Constant-node tensors stay inline unless the source kept them external.
 * Tensors stored in typed fields (float_data, int64_data, ...) stay as they are. Both files are written under
 * temporary names and renamed when complete (data file first), so a reader never sees a half-written package.
 */
public final class ExternalDataWriter {
  public static final int ALIGNMENT = 4096;
  /** Like onnx.save_model's default size_threshold: tensors under 1 KiB are not worth a separate read. */
  public static final long DEFAULT_INLINE_LIMIT = 1024;
  private static final String DATA_SUFFIX = ".data";

  private final Path sourceDirectory;
  private final Map<String, ByteSource> replacements;
  private final long inlineLimit;
  private final Set<String> replaced = new HashSet<>();
  private final String dataLocation;
  private FileChannel data;
  private int externalTensors;

  /** What was written: both files and their sizes. {@code dataFile} is null when no tensor needed it. */
  public record Result(Path modelFile, Path dataFile, long modelBytes, long dataBytes, int externalTensors) {
    public long totalBytes() {
      return modelBytes + dataBytes;
    }
  }

  private ExternalDataWriter(Path sourceDirectory, Map<String, ByteSource> replacements, long inlineLimit,
      String dataLocation) {
    this.sourceDirectory = sourceDirectory.toAbsolutePath().normalize();
    this.replacements = Map.copyOf(replacements);
    this.inlineLimit = inlineLimit;
    this.dataLocation = dataLocation;
  }

  /** {@link #write(Onnx.ModelProto, Path, Map, Path, long)} with {@link #DEFAULT_INLINE_LIMIT}. */
  public static Result write(Onnx.ModelProto model, Path sourceDirectory, Map<String, ByteSource> replacements,
      Path modelFile) {
    return write(model, sourceDirectory, replacements, modelFile, DEFAULT_INLINE_LIMIT);
  }

  /**
   * @param model the graph to write; an initializer named in {@code replacements} takes its bytes from there (its own
   *     data fields, if any, are ignored)
   * @param sourceDirectory the directory the model's external-data locations are relative to
   * @param replacements initializer name to the bytes of its raw little-endian data
   * @param modelFile where model.onnx goes; the data file is written beside it as {@code <name>.data}
   * @param inlineLimit initializers with fewer data bytes stay inline
   */
  public static Result write(Onnx.ModelProto model, Path sourceDirectory, Map<String, ByteSource> replacements,
      Path modelFile, long inlineLimit) {
    Path dataFile = modelFile.resolveSibling(modelFile.getFileName() + DATA_SUFFIX);
    ExternalDataWriter writer = new ExternalDataWriter(sourceDirectory, replacements, inlineLimit,
        dataFile.getFileName().toString());
    return writer.run(model, modelFile, dataFile);
  }

  private Result run(Onnx.ModelProto model, Path modelFile, Path dataFile) {
    String suffix = ".tmp-" + ProcessHandle.current().pid() + "-" + Thread.currentThread().getId();
    Path dataTemp = dataFile.resolveSibling(dataFile.getFileName() + suffix);
    Path modelTemp = modelFile.resolveSibling(modelFile.getFileName() + suffix);
    try {
      Path parent = modelFile.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Onnx.ModelProto.Builder builder = model.toBuilder();
      long dataBytes;
      try (FileChannel channel = FileChannel.open(dataTemp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        data = channel;
        rewriteGraph(builder.getGraphBuilder());
        dataBytes = channel.size();
      }
      for (String name : replacements.keySet()) {
        if (!replaced.contains(name)) {
          throw new ModelException("replacement bytes for tensor '" + name + "' match no initializer of the model"
              + " (the layer name and the graph disagree: is it the same source model?)");
        }
      }
      Onnx.ModelProto written = builder.build();
      if (written.getSerializedSize() < 0 || (long) written.getSerializedSize() >= Integer.MAX_VALUE) {
        throw new ModelException("the graph of " + modelFile + " alone is above protobuf's 2 GiB limit even with"
            + " every initializer external");
      }
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(modelTemp), 1 << 16)) {
        written.writeTo(out);
      }
      if (externalTensors > 0) {
        Files.move(dataTemp, dataFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } else {
        Files.delete(dataTemp);
        Files.deleteIfExists(dataFile);
      }
      Files.move(modelTemp, modelFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return new Result(modelFile, externalTensors > 0 ? dataFile : null, Files.size(modelFile),
          externalTensors > 0 ? dataBytes : 0, externalTensors);
    } catch (IOException e) {
      throw new ModelException("cannot write " + modelFile + " and its data file: " + e.getMessage(), e);
    } finally {
      try {
        Files.deleteIfExists(dataTemp);
        Files.deleteIfExists(modelTemp);
      } catch (IOException ignored) {
        // the original failure is the one to report
      }
    }
  }

  private void rewriteGraph(Onnx.GraphProto.Builder graph) throws IOException {
    for (Onnx.TensorProto.Builder tensor : graph.getInitializerBuilderList()) {
      rewriteInitializer(tensor);
    }
    for (Onnx.SparseTensorProto sparse : graph.getSparseInitializerList()) {
      if (isExternal(sparse.getValues()) || isExternal(sparse.getIndices())) {
        throw new ModelException("sparse initializer '" + sparse.getValues().getName() + "' keeps its data externally;"
            + " bitsweep cannot copy external sparse tensors yet: save the model with the sparse tensor inline");
      }
    }
    for (Onnx.NodeProto.Builder node : graph.getNodeBuilderList()) {
      for (Onnx.AttributeProto.Builder attribute : node.getAttributeBuilderList()) {
        if (attribute.hasT() && isExternal(attribute.getT())) {
          moveExternal(attribute.getTBuilder());
        }
        for (Onnx.TensorProto.Builder tensor : attribute.getTensorsBuilderList()) {
          if (isExternal(tensor)) {
            moveExternal(tensor);
          }
        }
        if (attribute.hasG()) {
          rewriteGraph(attribute.getGBuilder());
        }
        for (Onnx.GraphProto.Builder subgraph : attribute.getGraphsBuilderList()) {
          rewriteGraph(subgraph);
        }
      }
    }
  }

  private void rewriteInitializer(Onnx.TensorProto.Builder tensor) throws IOException {
    ByteSource replacement = replacements.get(tensor.getName());
    if (replacement != null) {
      if (!replaced.add(tensor.getName())) {
        throw new ModelException("two initializers are named '" + tensor.getName() + "'; a replacement for it is"
            + " ambiguous: give the tensors unique names");
      }
      checkLength(tensor, replacement.size(), "its replacement bytes");
      if (replacement.size() < inlineLimit) {
        setInline(tensor, readSmall(replacement));
      } else {
        append(tensor, replacement);
      }
    } else if (isExternal(tensor)) {
      moveExternal(tensor);
    } else if (tensor.hasRawData() && tensor.getRawData().size() >= inlineLimit) {
      checkLength(tensor, tensor.getRawData().size(), "its raw_data");
      append(tensor, new BufferSource(tensor.getRawData().asReadOnlyByteBuffer()));
    }
  }

  /** A tensor the source keeps externally: its bytes move into our data file (or inline, when small). */
  private void moveExternal(Onnx.TensorProto.Builder tensor) throws IOException {
    FileRegion region = SourceExternalData.region(tensor.build(), sourceDirectory);
    checkLength(tensor, region.length(), "its external data length");
    if (region.length() < inlineLimit) {
      setInline(tensor, readSmall(region));
    } else {
      append(tensor, region);
    }
  }

  private void append(Onnx.TensorProto.Builder tensor, ByteSource bytes) throws IOException {
    long offset = align(data.size());
    if (offset > data.size()) {
      data.write(ByteBuffer.allocate((int) (offset - data.size())), data.size());
    }
    data.position(offset);
    try {
      bytes.copyTo(data);
    } catch (IOException e) {
      throw new ModelException("cannot copy the bytes of tensor '" + tensor.getName() + "': " + e.getMessage(), e);
    }
    long written = data.position() - offset;
    if (written != bytes.size()) {
      throw new ModelException("tensor '" + tensor.getName() + "': its source gave " + written + " bytes, expected "
          + bytes.size());
    }
    tensor.clearRawData().clearExternalData().setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
        .addExternalData(entry("location", dataLocation))
        .addExternalData(entry("offset", Long.toString(offset)))
        .addExternalData(entry("length", Long.toString(written)));
    externalTensors++;
  }

  private static void setInline(Onnx.TensorProto.Builder tensor, ByteString bytes) {
    tensor.clearExternalData().clearDataLocation().setRawData(bytes);
  }

  private static ByteString readSmall(ByteSource source) throws IOException {
    ByteString.Output out = ByteString.newOutput((int) source.size());
    source.copyTo(java.nio.channels.Channels.newChannel(out));
    return out.toByteString();
  }

  private static Onnx.StringStringEntryProto entry(String key, String value) {
    return Onnx.StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  static long align(long position) {
    return (position + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  static boolean isExternal(Onnx.TensorProtoOrBuilder tensor) {
    return tensor.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL;
  }

  private static void checkLength(Onnx.TensorProtoOrBuilder tensor, long actual, String what) {
    long expected = expectedBytes(tensor);
    if (expected >= 0 && expected != actual) {
      throw new ModelException("tensor '" + tensor.getName() + "' " + shape(tensor) + " " + DataType.name(tensor.getDataType())
          + " needs " + expected + " bytes but " + what + " has " + actual + ": the data does not belong to this tensor");
    }
  }

  private static String shape(Onnx.TensorProtoOrBuilder tensor) {
    return tensor.getDimsList().toString();
  }

  /** Data bytes a tensor's shape and type need, or -1 when the type has no fixed width (strings). */
  public static long expectedBytes(Onnx.TensorProtoOrBuilder tensor) {
    long elements = 1;
    for (long d : tensor.getDimsList()) {
      elements = Math.multiplyExact(elements, d);
    }
    return switch (tensor.getDataType()) {
      case 1, 6, 12 -> 4 * elements;                    // FLOAT, INT32, UINT32
      case 7, 11, 13, 14 -> 8 * elements;               // INT64, DOUBLE, UINT64, COMPLEX64
      case 15 -> 16 * elements;                         // COMPLEX128
      case 4, 5, 10, 16 -> 2 * elements;                // UINT16, INT16, FLOAT16, BFLOAT16
      case 2, 3, 9, 17, 18, 19, 20 -> elements;         // UINT8, INT8, BOOL, FLOAT8*
      case 21, 22, 23 -> (elements + 1) / 2;            // UINT4, INT4, FLOAT4E2M1: two per byte
      default -> -1;
    };
  }
}
