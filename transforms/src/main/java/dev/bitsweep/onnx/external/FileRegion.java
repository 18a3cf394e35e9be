package dev.bitsweep.onnx.external;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** {@code length} bytes of a local file from {@code offset}: copied by the kernel (transferTo), not through the heap. */
public record FileRegion(Path file, long offset, long length) implements ByteSource {
  public FileRegion {
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException("file region of " + file + " has offset " + offset + " and length " + length);
    }
  }

  /** The whole file. */
  public static FileRegion of(Path file) throws IOException {
    return new FileRegion(file, 0, java.nio.file.Files.size(file));
  }

  @Override
  public long size() {
    return length;
  }

  @Override
  public void copyTo(WritableByteChannel out) throws IOException {
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      if (offset + length > in.size()) {
        throw new EOFException(file + " has " + in.size() + " bytes, fewer than offset " + offset + " + length " + length);
      }
      long done = 0;
      while (done < length) {
        long n = in.transferTo(offset + done, length - done, out);
        if (n <= 0) {
          throw new EOFException(file + " ended after " + (offset + done) + " bytes");
        }
        done += n;
      }
    }
  }
}
