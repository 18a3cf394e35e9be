package dev.bitsweep.onnx.encode;

import java.util.Arrays;

/**
 * Where a decode finds the integer codes (palette indices, quantization codes) of a weight, one per unit (a weight,
 * or a palette vector): all of them bit-packed, or only the kept ones of a sparse mask.
 */
interface CodeStream {

  /** Stores the codes and returns the flat int32 tensor of all {@code count} codes in canonical order. */
  String decode(DecodeGraph g, int nbits, boolean signed);

  /**
   * Every code stored, bit-packed at {@code nbits}. The result has all {@code count} codes in canonical order, flat,
   * or for several planes of whole units {@code [units, 2, ..., 2]} (see {@link #storeAndUnpackInUnits}).
   */
  static CodeStream all(BitPacking.ValueSource codes, int count) {
    return (g, nbits, signed) -> {
      int[] planes = BitPacking.planes(nbits);
      int unit = 8 / Arrays.stream(planes).min().getAsInt();
      return planes.length > 1 && count % unit == 0
          ? storeAndUnpackInUnits(g, codes, count, nbits, signed, unit)
          : storeAndUnpack(g, codes, count, nbits, signed);
    };
  }

  /**
   * Several planes without Reshapes: codes go in units of {@code unit} (the values of one byte of the narrowest
   * plane), each plane's bytes stored as {@code [units, 2, ..., 2]} (the bytes of one unit) and looked up in its
   * byte table reshaped to {@code [256, 2, ..., 2]} (the values of one byte) and shifted to its bits, so every
   * plane's Gather gives {@code [units, 2, ..., 2]} in the same order and the planes just add.
   */
  static String storeAndUnpackInUnits(DecodeGraph g, BitPacking.ValueSource codes, int count, int nbits,
      boolean signed, int unit) {
    int units = count / unit;
    String value = null;
    int shift = 0;
    for (int bits : BitPacking.planes(nbits)) {
      byte[] packed = BitPacking.packPlane(codes, count, shift, bits);
      int bytesPerUnit = unit / (8 / bits);
      String bytes = g.cast(g.uint8s(packed, halvings(units, bytesPerUnit)), DecodeGraph.INT32);
      String plane = g.gather(g.byteTableInHalves(bits, shift), bytes, 0);
      value = value == null ? plane : g.add(value, plane);
      shift += bits;
    }
    return signed ? g.signExtend(value, nbits) : value;
  }

  /** {@code [first, 2, 2, ...]} with as many 2s as halve {@code size} down to 1 (a power of two). */
  static long[] halvings(long first, int size) {
    int twos = Integer.numberOfTrailingZeros(size);
    long[] dims = new long[1 + twos];
    dims[0] = first;
    Arrays.fill(dims, 1, dims.length, 2);
    return dims;
  }

  /**
   * Packs {@code count} codes as bit planes (one uint8 initializer each), unpacks them and recombines
   * {@code plane0 + plane1 * 2^bits0 + ...}: a flat int32 tensor of exactly {@code count} codes.
   */
  static String storeAndUnpack(DecodeGraph g, BitPacking.ValueSource codes, int count, int nbits, boolean signed) {
    String value = null;
    int shift = 0;
    for (int bits : BitPacking.planes(nbits)) {
      byte[] packed = BitPacking.packPlane(codes, count, shift, bits);
      String plane = g.unpackPlane(g.uint8s(packed, packed.length), packed.length, bits, shift);
      plane = g.truncate(plane, (long) packed.length * (8 / bits), count);
      value = value == null ? plane : g.add(value, plane);
      shift += bits;
    }
    return signed ? g.signExtend(value, nbits) : value;
  }
}
