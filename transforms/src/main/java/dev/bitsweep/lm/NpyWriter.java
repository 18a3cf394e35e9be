package dev.bitsweep.lm;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes little-endian C-order int64 .npy files (format 1.0), the layout bitsweep's data sets use for token ids. */
final class NpyWriter {
  private NpyWriter() {}

  static void writeInt64(Path file, long[] values, long[] shape) throws IOException {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, dims.length() - 2) + ")";
    StringBuilder header = new StringBuilder("{'descr': '<i8', 'fortran_order': False, 'shape': " + shapeText + ", }");
    while ((10 + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    byte[] headerBytes = header.toString().getBytes(StandardCharsets.US_ASCII);
    Files.createDirectories(file.toAbsolutePath().getParent());
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
      out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
      out.write(headerBytes.length & 0xff);
      out.write(headerBytes.length >>> 8);
      out.write(headerBytes);
      byte[] le = new byte[8];
      for (long v : values) {
        for (int b = 0; b < 8; b++) {
          le[b] = (byte) (v >>> (8 * b));
        }
        out.write(le);
      }
    }
  }
}
