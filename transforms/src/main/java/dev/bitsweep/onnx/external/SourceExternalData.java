package dev.bitsweep.onnx.external;

import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where an external tensor's bytes are, checked: inside the model's directory, present, long enough. */
final class SourceExternalData {
  private SourceExternalData() {}

  static FileRegion region(Onnx.TensorProto tensor, Path modelDirectory) {
    String location = null;
    long offset = 0;
    long length = -1;
    for (Onnx.StringStringEntryProto entry : tensor.getExternalDataList()) {
      try {
        switch (entry.getKey()) {
          case "location" -> location = entry.getValue();
          case "offset" -> offset = Long.parseLong(entry.getValue());
          case "length" -> length = Long.parseLong(entry.getValue());
          default -> { }
        }
      } catch (NumberFormatException e) {
        throw new ModelException("tensor '" + tensor.getName() + "': external data " + entry.getKey() + " '"
            + entry.getValue() + "' is not a number: the model file is corrupt");
      }
    }
    if (location == null || location.isEmpty()) {
      throw new ModelException("tensor '" + tensor.getName() + "' is marked external but names no location:"
          + " the model file is corrupt");
    }
    Path file = resolve(tensor.getName(), location, modelDirectory);
    if (!Files.isRegularFile(file)) {
      throw new ModelException("tensor '" + tensor.getName() + "': external data file " + file + " does not exist"
          + " (keep the data file beside the model)");
    }
    long fileSize;
    try {
      fileSize = Files.size(file);
    } catch (IOException e) {
      throw new ModelException("tensor '" + tensor.getName() + "': cannot read external data file " + file + ": "
          + e.getMessage(), e);
    }
    if (length < 0) {
      length = ExternalDataWriter.expectedBytes(tensor);
      if (length < 0) {
        length = fileSize - offset;
      }
    }
    if (offset < 0 || offset + length > fileSize) {
      throw new ModelException("tensor '" + tensor.getName() + "': external data file " + file + " has " + fileSize
          + " bytes, fewer than the tensor's offset " + offset + " + length " + length
          + " (the data file is truncated or belongs to another model)");
    }
    return new FileRegion(file, offset, length);
  }

  static Path resolve(String tensorName, String location, Path modelDirectory) {
    Path directory = modelDirectory.toAbsolutePath().normalize();
    Path file;
    try {
      file = directory.resolve(location).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      throw new ModelException("tensor '" + tensorName + "': external data location '" + location
          + "' is not a valid path");
    }
    if (Path.of(location).isAbsolute() || !file.startsWith(directory)) {
      throw new ModelException("tensor '" + tensorName + "': external data location '" + location
          + "' is outside the model's directory " + directory + "; keep data files beside the model");
    }
    return file;
  }
}
