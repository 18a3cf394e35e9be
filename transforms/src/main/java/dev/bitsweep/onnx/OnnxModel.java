package dev.bitsweep.onnx;

import com.google.protobuf.CodedInputStream;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;

/** An ONNX model read from disk, with the facts bitsweep needs about it (sha256, opset, directory for external data). */
public final class OnnxModel {
  private final Path path;
  private final Onnx.ModelProto proto;
  private final String sha256;
  private final long fileBytes;

  private OnnxModel(Path path, Onnx.ModelProto proto, String sha256, long fileBytes) {
    this.path = path;
    this.proto = proto;
    this.sha256 = sha256;
    this.fileBytes = fileBytes;
  }

  /** Reads and structurally checks a model; every failure names the file and what to do. */
  public static OnnxModel read(Path path) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new ModelException("model file not found: " + path + " (check the path; it must be readable by every worker)");
    } catch (IOException e) {
      throw new ModelException("cannot read model file " + path + ": " + e.getMessage(), e);
    }
    if (bytes.length == 0) {
      throw new ModelException("model file " + path + " is empty: export the model again");
    }
    Onnx.ModelProto proto;
    try {
      CodedInputStream input = CodedInputStream.newInstance(bytes);
      input.setRecursionLimit(1000);
      proto = Onnx.ModelProto.parseFrom(input);
    } catch (IOException e) {
      throw new ModelException("model file " + path + " is not a valid ONNX model (" + e.getMessage()
          + "); the file may be truncated or not ONNX at all: export or download it again", e);
    }
    checkStructure(path, proto);
    OnnxModel model = new OnnxModel(path, proto, sha256(bytes), bytes.length);
    ExternalDataReference.checkAll(path, proto, model.directory());
    return model;
  }

  public static OnnxModel of(Path path, Onnx.ModelProto proto) {
    byte[] bytes = proto.toByteArray();
    return new OnnxModel(path, proto, sha256(bytes), bytes.length);
  }

  private static void checkStructure(Path path, Onnx.ModelProto proto) {
    if (!proto.hasIrVersion() || !proto.hasGraph() || proto.getGraph().getNodeCount() == 0) {
      throw new ModelException("model file " + path + " is not a valid ONNX model (no ir_version or no graph nodes);"
          + " the file may be truncated or not ONNX at all: export or download it again");
    }
    Onnx.GraphProto graph = proto.getGraph();
    Set<String> produced = new HashSet<>();
    graph.getInputList().forEach(v -> produced.add(v.getName()));
    graph.getInitializerList().forEach(t -> produced.add(t.getName()));
    graph.getSparseInitializerList().forEach(t -> produced.add(t.getValues().getName()));
    graph.getNodeList().forEach(n -> produced.addAll(n.getOutputList()));
    for (Onnx.ValueInfoProto output : graph.getOutputList()) {
      if (!produced.contains(output.getName())) {
        throw new ModelException("model file " + path + " is incomplete: graph output '" + output.getName()
            + "' is produced by no node; the file may be truncated: export or download it again");
      }
    }
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public Path path() {
    return path;
  }

  /** The directory external-data locations are relative to. */
  public Path directory() {
    Path parent = path.toAbsolutePath().getParent();
    return parent == null ? Path.of(".") : parent;
  }

  public Onnx.ModelProto proto() {
    return proto;
  }

  public String sha256() {
    return sha256;
  }

  public long fileBytes() {
    return fileBytes;
  }

  /** The version of the default ("" or "ai.onnx") operator set this model imports. */
  public int defaultOpset() {
    return defaultOpset(proto);
  }

  public static int defaultOpset(Onnx.ModelProto proto) {
    for (Onnx.OperatorSetIdProto opset : proto.getOpsetImportList()) {
      if (opset.getDomain().isEmpty() || opset.getDomain().equals("ai.onnx")) {
        return (int) opset.getVersion();
      }
    }
    return 1;
  }

  public byte[] toBytes() {
    return proto.toByteArray();
  }
}
