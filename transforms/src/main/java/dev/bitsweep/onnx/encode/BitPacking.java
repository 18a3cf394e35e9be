package dev.bitsweep.onnx.encode;

/**
 * Packs unsigned n-bit values as bit planes of 1, 2, 4 or 8 bits, each an LSB-first stream (value i of a k-bit
 * plane in byte {@code i / (8/k)} at bit {@code (i % (8/k)) * k}; for k = 4 this is ONNX's INT4/UINT4 layout, low
 * nibble first). Widths that are not a power of two split into planes, low bits first: 3 = 2 + 1, 5 = 4 + 1,
 * 6 = 4 + 2, 7 = 4 + 2 + 1. Every plane decodes with one Gather from a 256-entry byte table, and no width wastes
 * bits. A plane never splits a value across bytes.
 */
public final class BitPacking {
  private BitPacking() {}

  /** The plane widths of an {@code nbits}-bit value, low bits first. */
  public static int[] planes(int nbits) {
    return switch (nbits) {
      case 1, 2, 4, 8 -> new int[] {nbits};
      case 3 -> new int[] {2, 1};
      case 5 -> new int[] {4, 1};
      case 6 -> new int[] {4, 2};
      case 7 -> new int[] {4, 2, 1};
      default -> throw new IllegalArgumentException("bit width must be in 1..8, got " + nbits);
    };
  }

  /** Bytes of a {@code bits}-bit plane of {@code count} values. */
  public static int planeBytes(long count, int bits) {
    long bytes = (count * bits + 7) / 8;
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(count + " values at " + bits + " bits do not fit in one 2 GB tensor");
    }
    return (int) bytes;
  }

  /** Bits {@code [shift, shift + bits)} of each of the {@code count} values, packed LSB first. */
  public static byte[] packPlane(ValueSource values, int count, int shift, int bits) {
    byte[] out = new byte[planeBytes(count, bits)];
    int mask = (1 << bits) - 1;
    int perByte = 8 / bits;
    for (int i = 0; i < count; i++) {
      out[i / perByte] |= (byte) (((values.get(i) >>> shift) & mask) << ((i % perByte) * bits));
    }
    return out;
  }

  /** ONNX INT4/UINT4 layout: value i in byte i / 2, low nibble first. */
  public static byte[] packInt4(ValueSource values, int count) {
    return packPlane(values, count, 0, 4);
  }

  /** Value {@code i} of a plane (for tests and checks). */
  public static int getFromPlane(byte[] plane, int i, int bits) {
    int perByte = 8 / bits;
    return (plane[i / perByte] & 0xff) >>> ((i % perByte) * bits) & ((1 << bits) - 1);
  }

  /** An indexed source of integer values (avoids copying big index arrays). */
  @FunctionalInterface
  public interface ValueSource {
    int get(int i);
  }
}
