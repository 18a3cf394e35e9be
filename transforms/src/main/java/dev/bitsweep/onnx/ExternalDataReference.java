package dev.bitsweep.onnx;

import dev.bitsweep.onnx.external.ExternalDataWriter;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a tensor's bytes live when the model keeps them in an external-data file, validated before any byte is read.
 *
 * <p>The rules are those onnx 1.21 applies (after CVE-2022-25882, CVE-2024-27318, CVE-2026-27489, CVE-2026-34446):
 * the location is relative and stays inside the model's directory after canonicalization (no {@code ..}, no absolute
 * path); no component of it is a symbolic link and the file has no second hard link (either could make a file
 * outside the directory readable through it); offset and length are non-negative integers inside the file; only
 * the keys {@code location}, {@code offset}, {@code length} and {@code checksum} appear. A model whose external data
 * breaks a rule could make bitsweep copy an unrelated file (a secret) into a package, so it is refused as a whole.
 *
 * @param length the byte count, or -1 when the entry has none (the tensor then runs to what its shape needs)
 */
public record ExternalDataReference(String tensor, Path file, long offset, long length, long fileBytes) {
  static final List<String> KNOWN_KEYS = List.of("location", "offset", "length", "checksum");

  /** Whether the tensor's values are in an external-data file. */
  public static boolean isExternal(Onnx.TensorProto tensor) {
    return tensor.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL || tensor.getExternalDataCount() > 0;
  }

  /**
   * Validates the tensor's external-data entries against the model's directory.
   *
   * @throws ModelException naming the model file, the tensor and the rule it breaks
   */
  public static ExternalDataReference of(Onnx.TensorProto tensor, Path modelFile, Path modelDirectory) {
    String name = tensor.getName();
    String location = null;
    String offsetText = null;
    String lengthText = null;
    Set<String> seen = new HashSet<>();
    for (Onnx.StringStringEntryProto entry : tensor.getExternalDataList()) {
      String key = entry.getKey();
      if (!KNOWN_KEYS.contains(key)) {
        throw error(modelFile, name, "has the unknown key '" + key + "' (known keys: " + String.join(", ", KNOWN_KEYS)
            + "); the model was written by a tool that does not follow the ONNX format: save it again with onnx");
      }
      if (!seen.add(key)) {
        throw error(modelFile, name, "has the key '" + key + "' twice; save the model again with onnx");
      }
      switch (key) {
        case "location" -> location = entry.getValue();
        case "offset" -> offsetText = entry.getValue();
        case "length" -> lengthText = entry.getValue();
        default -> { } // checksum: not verified
      }
    }
    if (location == null || location.isEmpty()) {
      throw error(modelFile, name, "names no location; the model file is corrupt: export it again");
    }
    long offset = offsetText == null ? 0 : number(modelFile, name, "offset", offsetText);
    long length = lengthText == null ? -1 : number(modelFile, name, "length", lengthText);
    Path file = containedFile(modelFile, name, location, modelDirectory);
    long fileBytes;
    try {
      Object links = Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
      if (links instanceof Integer count && count > 1) {
        throw error(modelFile, name, "has location '" + location + "', a file with " + count + " hard links: it may "
            + "be a link to a file outside the model's directory, and links are not followed; copy the data into the "
            + "model's directory as a plain file (cp, not ln)");
      }
      fileBytes = Files.size(file);
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      throw error(modelFile, name, "has location '" + location + "' on a file system without link counts; "
          + "keep the model on a local (POSIX) file system");
    } catch (IOException e) {
      throw error(modelFile, name, "has location '" + location + "', which cannot be read: " + e.getMessage());
    }
    if (offset > fileBytes) {
      throw error(modelFile, name, "has offset " + offset + ", past the end of " + file + " (" + fileBytes
          + " bytes); the data file does not belong to this model or is truncated");
    }
    long needed = ExternalDataWriter.expectedBytes(tensor);
    if (length >= 0 && needed >= 0 && length != needed) {
      throw error(modelFile, name, "has length " + length + ", but its shape " + tensor.getDimsList() + " and type "
          + DataType.name(tensor.getDataType()) + " need " + needed + " bytes; the model file is corrupt: export it again");
    }
    if (length < 0 && needed >= 0 && needed > fileBytes - offset) {
      throw error(modelFile, name, "needs " + needed + " bytes from offset " + offset + ", past the end of " + file
          + " (" + fileBytes + " bytes); the data file does not belong to this model or is truncated");
    }
    if (length >= 0 && length > fileBytes - offset) {
      throw error(modelFile, name, "has offset " + offset + " and length " + length + ", past the end of " + file
          + " (" + fileBytes + " bytes); the data file does not belong to this model or is truncated");
    }
    return new ExternalDataReference(name, file, offset, length, fileBytes);
  }

  /** The file inside the model's directory that {@code location} names, or a ModelException saying why not. */
  private static Path containedFile(Path modelFile, String tensor, String location, Path modelDirectory) {
    Path directory;
    try {
      directory = modelDirectory.toRealPath();
    } catch (IOException e) {
      throw error(modelFile, tensor, "cannot be checked: the model's directory " + modelDirectory
          + " cannot be resolved (" + e.getMessage() + ")");
    }
    Path relative;
    try {
      relative = Path.of(location);
    } catch (InvalidPathException e) {
      throw error(modelFile, tensor, "has location '" + location + "', which is not a valid file name");
    }
    if (relative.isAbsolute() || location.startsWith("/") || location.startsWith("\\")
        || location.matches("^[A-Za-z]:.*")) {
      throw error(modelFile, tensor, "has the absolute location '" + location + "'; external data must be a file "
          + "inside the model's directory " + directory + ", named relative to it");
    }
    if (location.contains("\\")) {
      throw error(modelFile, tensor, "has location '" + location + "' with a backslash; name the file relative to "
          + "the model's directory with '/' separators");
    }
    for (Path part : relative) {
      if (part.toString().equals("..")) {
        throw error(modelFile, tensor, "has location '" + location + "', which leaves the model's directory "
            + directory + "; external data must be a file inside it");
      }
    }
    Path current = directory;
    for (Path part : relative) {
      current = current.resolve(part);
      if (Files.isSymbolicLink(current)) {
        throw error(modelFile, tensor, "has location '" + location + "', and " + current + " is a symbolic link; "
            + "links are not followed for external data: copy the data into the model's directory as a plain file");
      }
    }
    Path file = directory.resolve(relative).normalize();
    try {
      if (!file.startsWith(directory) || !file.toRealPath().startsWith(directory)) {
        throw error(modelFile, tensor, "has location '" + location + "', which leaves the model's directory "
            + directory + "; external data must be a file inside it");
      }
    } catch (NoSuchFileException e) {
      throw error(modelFile, tensor, "has location '" + location + "', but " + file + " does not exist; keep the "
          + "data file beside the model (same directory, same name)");
    } catch (IOException e) {
      throw error(modelFile, tensor, "has location '" + location + "', which cannot be read: " + e.getMessage());
    }
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw error(modelFile, tensor, "has location '" + location + "', but " + file + " is not a regular file");
    }
    return file;
  }

  private static long number(Path modelFile, String tensor, String key, String text) {
    if (!text.matches("[0-9]{1,18}")) {
      throw error(modelFile, tensor, "has " + key + " '" + text + "', which is not a non-negative whole number of "
          + "bytes; the model file is corrupt: export it again");
    }
    return Long.parseLong(text);
  }

  private static ModelException error(Path modelFile, String tensor, String problem) {
    return new ModelException("model file " + modelFile + ": the external data of tensor '" + tensor + "' " + problem);
  }

  /** Reads the referenced bytes: {@code length}, or {@code neededBytes} when the entry has no length. */
  public byte[] read(long neededBytes) {
    long bytes = length >= 0 ? length : neededBytes;
    if (offset + bytes > fileBytes) {
      throw new ModelException("external data file " + file + " is too short for tensor '" + tensor + "' (needs bytes "
          + offset + ".." + (offset + bytes) + ", has " + fileBytes + ")");
    }
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new ModelException("tensor '" + tensor + "' has " + bytes + " bytes of external data; at most 2 GiB per "
          + "tensor are supported");
    }
    byte[] data = new byte[(int) bytes];
    try (var channel = Files.newByteChannel(file, java.nio.file.StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      channel.position(offset);
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(data);
      while (buffer.hasRemaining()) {
        if (channel.read(buffer) < 0) {
          throw new ModelException("external data file " + file + " ended early while reading tensor '" + tensor
              + "' (it changed while bitsweep read it)");
        }
      }
    } catch (IOException e) {
      throw new ModelException("cannot read external data of tensor '" + tensor + "' from " + file + ": "
          + e.getMessage() + " (keep the data file beside the model)", e);
    }
    return data;
  }

  /** Every tensor of the model that keeps its values in an external file: graphs, subgraphs, attributes, functions. */
  static void checkAll(Path modelFile, Onnx.ModelProto model, Path modelDirectory) {
    TensorVisitor visitor = tensor -> {
      if (isExternal(tensor)) {
        of(tensor, modelFile, modelDirectory);
      }
    };
    visitGraph(model.getGraph(), visitor);
    for (Onnx.FunctionProto function : model.getFunctionsList()) {
      function.getNodeList().forEach(node -> visitNode(node, visitor));
      function.getAttributeProtoList().forEach(attribute -> visitAttribute(attribute, visitor));
    }
  }

  private interface TensorVisitor {
    void visit(Onnx.TensorProto tensor);
  }

  private static void visitGraph(Onnx.GraphProto graph, TensorVisitor visitor) {
    graph.getInitializerList().forEach(visitor::visit);
    graph.getSparseInitializerList().forEach(sparse -> visitSparse(sparse, visitor));
    graph.getNodeList().forEach(node -> visitNode(node, visitor));
  }

  private static void visitNode(Onnx.NodeProto node, TensorVisitor visitor) {
    node.getAttributeList().forEach(attribute -> visitAttribute(attribute, visitor));
  }

  private static void visitAttribute(Onnx.AttributeProto attribute, TensorVisitor visitor) {
    if (attribute.hasT()) {
      visitor.visit(attribute.getT());
    }
    attribute.getTensorsList().forEach(visitor::visit);
    if (attribute.hasSparseTensor()) {
      visitSparse(attribute.getSparseTensor(), visitor);
    }
    attribute.getSparseTensorsList().forEach(sparse -> visitSparse(sparse, visitor));
    if (attribute.hasG()) {
      visitGraph(attribute.getG(), visitor);
    }
    attribute.getGraphsList().forEach(graph -> visitGraph(graph, visitor));
  }

  private static void visitSparse(Onnx.SparseTensorProto sparse, TensorVisitor visitor) {
    visitor.visit(sparse.getValues());
    visitor.visit(sparse.getIndices());
  }
}
