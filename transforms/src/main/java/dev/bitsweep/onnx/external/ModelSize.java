package dev.bitsweep.onnx.external;

import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * A model's true size on disk: the .onnx file plus every distinct external data file its tensors name (in every
 * graph, initializers and Constant-node tensors), so size ratios count external data too.
 */
public final class ModelSize {
  private ModelSize() {}

  public static long totalBytes(Path modelFile) {
    return totalBytes(modelFile, MappedModel.read(modelFile));
  }

  public static long totalBytes(Path modelFile, Onnx.ModelProto model) {
    Path directory = modelFile.toAbsolutePath().getParent();
    Set<Path> files = new TreeSet<>();
    collect(model.getGraph(), directory, files);
    try {
      long total = Files.size(modelFile);
      for (Path file : files) {
        total += Files.size(file);
      }
      return total;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot size " + modelFile + " and its data files", e);
    }
  }

  /** The external data files the model's tensors name, resolved and checked like the writer does. */
  public static Set<Path> externalFiles(Path modelFile, Onnx.ModelProto model) {
    Set<Path> files = new TreeSet<>();
    collect(model.getGraph(), modelFile.toAbsolutePath().getParent(), files);
    return files;
  }

  private static void collect(Onnx.GraphProto graph, Path directory, Set<Path> files) {
    for (Onnx.TensorProto tensor : graph.getInitializerList()) {
      add(tensor, directory, files);
    }
    for (Onnx.SparseTensorProto sparse : graph.getSparseInitializerList()) {
      add(sparse.getValues(), directory, files);
      add(sparse.getIndices(), directory, files);
    }
    for (Onnx.NodeProto node : graph.getNodeList()) {
      for (Onnx.AttributeProto attribute : node.getAttributeList()) {
        if (attribute.hasT()) {
          add(attribute.getT(), directory, files);
        }
        attribute.getTensorsList().forEach(t -> add(t, directory, files));
        if (attribute.hasG()) {
          collect(attribute.getG(), directory, files);
        }
        attribute.getGraphsList().forEach(g -> collect(g, directory, files));
      }
    }
  }

  private static void add(Onnx.TensorProto tensor, Path directory, Set<Path> files) {
    if (ExternalDataWriter.isExternal(tensor)) {
      files.add(SourceExternalData.region(tensor, directory).file());
    }
  }
}
