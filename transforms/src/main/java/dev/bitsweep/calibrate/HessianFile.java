package dev.bitsweep.calibrate;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;

/**
 * A Hessian on disk, streamed in blocks so that neither writing nor reading holds a second copy of a matrix that
 * reaches a gigabyte (d_in = 11008): a header (name, dim, groups, rows, min, max), then the {@code groups * dim²}
 * values of a {@link HessianAccumulator}'s upper triangle, row-major, big-endian (the lower entries are 0).
 * {@link #add} sums a file into an accumulator; {@link #readStatistics} mirrors it into a full {@link LayerStatistics}
 * in place.
 */
public final class HessianFile {
  private static final int MAGIC = 0x42534832; // "BSH2"
  private static final int BLOCK_VALUES = 1 << 17; // 1 MiB per read or write

  private HessianFile() {}

  public static void write(HessianAccumulator sum, OutputStream stream) throws IOException {
    DataOutputStream out = new DataOutputStream(stream);
    out.writeInt(MAGIC);
    out.writeUTF(sum.layer());
    out.writeInt(sum.dim());
    out.writeInt(sum.groups());
    out.writeLong(sum.rows);
    out.writeDouble(sum.min);
    out.writeDouble(sum.max);
    ByteBuffer block = ByteBuffer.allocate(BLOCK_VALUES * 8);
    DoubleBuffer values = block.asDoubleBuffer();
    for (int at = 0; at < sum.upper.length; at += BLOCK_VALUES) {
      int count = Math.min(BLOCK_VALUES, sum.upper.length - at);
      values.clear();
      values.put(sum.upper, at, count);
      out.write(block.array(), 0, count * 8);
    }
    out.flush();
  }

  /** The accumulator a file holds. */
  public static HessianAccumulator read(InputStream stream) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    Header header = header(in);
    HessianAccumulator sum = new HessianAccumulator(header.layer, header.dim, header.groups);
    sum.rows = header.rows;
    sum.min = header.min;
    sum.max = header.max;
    readValues(in, sum.upper, false);
    return sum;
  }

  /** Sums a file of the same layer, dimension and groups into {@code sum}, block by block. */
  public static void add(HessianAccumulator sum, InputStream stream) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    Header header = header(in);
    if (!header.layer.equals(sum.layer()) || header.dim != sum.dim() || header.groups != sum.groups()) {
      throw new IOException("holds the Hessian of " + header.layer + " (dim " + header.dim + ", groups "
          + header.groups + "), not of " + sum.layer() + " (dim " + sum.dim() + ", groups " + sum.groups() + ")");
    }
    readValues(in, sum.upper, true);
    sum.rows += header.rows;
    sum.min = Math.min(sum.min, header.min);
    sum.max = Math.max(sum.max, header.max);
  }

  /** The statistics a file holds, each group's Hessian mirrored into a full symmetric matrix. */
  public static LayerStatistics readStatistics(InputStream stream) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    Header header = header(in);
    int dim = header.dim;
    double[] full = new double[Math.toIntExact(HessianAccumulator.bytes(dim, header.groups) / 8)];
    readValues(in, full, false);
    for (int g = 0; g < header.groups; g++) {
      int base = g * dim * dim;
      for (int i = 0; i < dim; i++) {
        for (int j = i + 1; j < dim; j++) {
          full[base + j * dim + i] = full[base + i * dim + j];
        }
      }
    }
    return new LayerStatistics(header.layer, dim, header.groups, header.rows, header.min, header.max, full);
  }

  private record Header(String layer, int dim, int groups, long rows, double min, double max) {}

  private static Header header(DataInputStream in) throws IOException {
    int magic = in.readInt();
    if (magic != MAGIC) {
      throw new IOException("is not a bitsweep Hessian file (it starts with 0x" + Integer.toHexString(magic) + ")");
    }
    String layer = in.readUTF();
    int dim = in.readInt();
    int groups = in.readInt();
    if (dim <= 0 || groups <= 0 || HessianAccumulator.bytes(dim, groups) / 8 > Integer.MAX_VALUE) {
      throw new IOException("has an impossible shape: dim " + dim + ", groups " + groups);
    }
    return new Header(layer, dim, groups, in.readLong(), in.readDouble(), in.readDouble());
  }

  private static void readValues(DataInputStream in, double[] into, boolean add) throws IOException {
    ByteBuffer block = ByteBuffer.allocate(BLOCK_VALUES * 8);
    DoubleBuffer values = block.asDoubleBuffer();
    double[] scratch = add ? new double[BLOCK_VALUES] : null;
    for (int at = 0; at < into.length; at += BLOCK_VALUES) {
      int count = Math.min(BLOCK_VALUES, into.length - at);
      in.readFully(block.array(), 0, count * 8);
      values.clear();
      if (add) {
        values.get(scratch, 0, count);
        for (int i = 0; i < count; i++) {
          into[at + i] += scratch[i];
        }
      } else {
        values.get(into, at, count);
      }
    }
  }
}
