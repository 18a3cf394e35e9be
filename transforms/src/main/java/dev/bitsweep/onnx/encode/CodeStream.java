package dev.bitsweep.onnx.encode;

/**
 * Where a decode finds the integer codes (palette indices, quantization codes) of a weight, one per unit (a weight,
 * or a palette vector): all of them bit-packed, or only the kept ones of a sparse mask.
 */
interface CodeStream {

  /** Stores the codes and returns the flat int32 tensor of all {@code count} codes in canonical order. */
  String decode(DecodeGraph g, int nbits, boolean signed);

  /** Every code stored, bit-packed at {@code nbits}. */
  static CodeStream all(BitPacking.ValueSource codes, int count) {
    return (g, nbits, signed) -> storeAndUnpack(g, codes, count, nbits, signed);
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
