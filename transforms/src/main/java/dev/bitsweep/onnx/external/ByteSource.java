package dev.bitsweep.onnx.external;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/**
 * The bytes of one tensor, wherever they live (a region of a file, a memory-mapped model, a generator), streamed
 * into a channel so that no tensor has to sit in the Java heap as a whole.
 */
public interface ByteSource {
  /** How many bytes {@link #copyTo} writes. */
  long size();

  /** Writes exactly {@link #size()} bytes to {@code out}; throws when the underlying data is shorter. */
  void copyTo(WritableByteChannel out) throws IOException;
}
