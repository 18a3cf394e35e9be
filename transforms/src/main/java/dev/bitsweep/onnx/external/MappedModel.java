package dev.bitsweep.onnx.external;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Parses an .onnx file without copying its tensor bytes into the heap: the file is memory-mapped and the parser
 * aliases {@code raw_data} fields to the mapping, so a model with 1.9 GB of inline weights costs the heap only its
 * graph structure. The mapping lives as long as the returned proto (or a tensor of it) is reachable; the file must
 * not be changed meanwhile.
 */
public final class MappedModel {
  private static final long PROTOBUF_LIMIT = Integer.MAX_VALUE;

  private MappedModel() {}

  public static Onnx.ModelProto read(Path file) {
    MappedByteBuffer mapped;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size == 0) {
        throw new ModelException("model file " + file + " is empty: export the model again");
      }
      if (size > PROTOBUF_LIMIT) {
        throw new ModelException("model file " + file + " is " + size + " bytes, above protobuf's 2 GiB limit: save it"
            + " with external data (onnx.save_model(..., save_as_external_data=True))");
      }
      mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
    } catch (NoSuchFileException e) {
      throw new ModelException("model file not found: " + file + " (check the path)");
    } catch (IOException e) {
      throw new ModelException("cannot read model file " + file + ": " + e.getMessage(), e);
    }
    try {
      CodedInputStream input = UnsafeByteOperations.unsafeWrap(mapped).newCodedInput();
      input.enableAliasing(true);
      input.setRecursionLimit(1000);
      input.setSizeLimit(Integer.MAX_VALUE);
      return Onnx.ModelProto.parseFrom(input);
    } catch (IOException e) {
      throw new ModelException("model file " + file + " is not a valid ONNX model (" + e.getMessage()
          + "); the file may be truncated or not ONNX at all: export or download it again", e);
    }
  }
}
