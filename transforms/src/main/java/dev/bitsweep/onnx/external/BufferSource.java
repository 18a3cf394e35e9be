package dev.bitsweep.onnx.external;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/** Bytes already in a buffer (e.g. a tensor's raw_data aliasing a memory-mapped model file). */
public record BufferSource(ByteBuffer buffer) implements ByteSource {
  public BufferSource {
    buffer = buffer.asReadOnlyBuffer();
  }

  @Override
  public long size() {
    return buffer.remaining();
  }

  @Override
  public void copyTo(WritableByteChannel out) throws IOException {
    ByteBuffer view = buffer.duplicate();
    while (view.hasRemaining()) {
      out.write(view);
    }
  }
}
