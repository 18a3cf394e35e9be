package dev.bitsweep.onnx.encode;

/**
 * Packs unsigned n-bit values into an LSB-first bit stream: value i occupies bits {@code [i*n, (i+1)*n)} of the
 * stream, bit k of the stream is bit {@code k % 8} of byte {@code k / 8}. The stream is padded with zero bits to a
 * whole number of words: the smallest run of bytes that holds a whole number of values (1 byte for 1/2/4/8 bits,
 * 3 bytes for 3 and 6 bits), so the decode graph can unpack word by word. For 4 bits this is exactly ONNX's
 * INT4/UINT4 layout (low nibble first).
 */
public final class BitPacking {
  private BitPacking() {}

  /** The width a value of {@code nbits} bits is stored at: 5 and 7 bits are widened to 6 and 8 (3-byte words). */
  public static int storageBits(int nbits) {
    checkBits(nbits);
    return nbits == 5 ? 6 : nbits == 7 ? 8 : nbits;
  }

  public static int wordBytes(int nbits) {
    checkBits(nbits);
    if (storageBits(nbits) != nbits) {
      throw new IllegalArgumentException(nbits + "-bit values are stored at " + storageBits(nbits) + " bits");
    }
    return nbits / gcd(nbits, 8);
  }

  public static int valuesPerWord(int nbits) {
    return wordBytes(nbits) * 8 / nbits;
  }

  /** Bytes of the packed stream of {@code count} values. */
  public static int packedBytes(long count, int nbits) {
    long words = (count + valuesPerWord(nbits) - 1) / valuesPerWord(nbits);
    long bytes = words * wordBytes(nbits);
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(count + " values at " + nbits + " bits do not fit in one 2 GB tensor");
    }
    return (int) bytes;
  }

  /** Values the decode graph unpacks from {@code packedBytes} bytes (the count rounded up to whole words). */
  public static long unpackedLength(int packedBytes, int nbits) {
    return (long) packedBytes / wordBytes(nbits) * valuesPerWord(nbits);
  }

  /** Packs {@code values[i] & (2^nbits - 1)} for i in [0, count). */
  public static byte[] pack(ValueSource values, int count, int nbits) {
    byte[] out = new byte[packedBytes(count, nbits)];
    int mask = (1 << nbits) - 1;
    long buffer = 0;
    int buffered = 0;
    int position = 0;
    for (int i = 0; i < count; i++) {
      buffer |= (long) (values.get(i) & mask) << buffered;
      buffered += nbits;
      while (buffered >= 8) {
        out[position++] = (byte) buffer;
        buffer >>>= 8;
        buffered -= 8;
      }
    }
    if (buffered > 0) {
      out[position] = (byte) buffer;
    }
    return out;
  }

  /** Reads value {@code i} back (for tests and checks). */
  public static int get(byte[] packed, long i, int nbits) {
    long bit = i * nbits;
    int value = 0;
    for (int b = 0; b < nbits; b++, bit++) {
      value |= (packed[(int) (bit >>> 3)] >>> (bit & 7) & 1) << b;
    }
    return value;
  }

  /** An indexed source of integer values (avoids copying big index arrays). */
  @FunctionalInterface
  public interface ValueSource {
    int get(int i);
  }

  private static void checkBits(int nbits) {
    if (nbits < 1 || nbits > 8) {
      throw new IllegalArgumentException("bit width must be in 1..8, got " + nbits);
    }
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }
}
