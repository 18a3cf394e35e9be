package dev.bitsweep.onnx.encode;

/**
 * Where a decode finds the integer codes (palette indices, quantization codes) of a weight, one per unit (a weight,
 * or a palette vector): all of them bit-packed, or only the kept ones of a sparse mask.
 */
interface CodeStream {

  /** Stores the codes and returns the flat int32 tensor of all {@code count} codes in canonical order. */
  String decode(DecodeGraph g, int nbits, boolean signed);

  /** Every code stored, bit-packed at {@code nbits} (widened to its storage width). */
  static CodeStream all(BitPacking.ValueSource codes, int count) {
    return (g, nbits, signed) -> {
      String values = storeAndUnpack(g, codes, count, nbits, signed);
      return g.truncate(values, BitPacking.unpackedLength(BitPacking.packedBytes(count, BitPacking.storageBits(nbits)),
          BitPacking.storageBits(nbits)), count);
    };
  }

  /** Packs {@code count} codes, stores them as one uint8 initializer and unpacks them (the tail may be padding). */
  static String storeAndUnpack(DecodeGraph g, BitPacking.ValueSource codes, int count, int nbits, boolean signed) {
    int storageBits = BitPacking.storageBits(nbits);
    if (storageBits != nbits) {
      g.note(nbits + "-bit codes are stored at " + storageBits + " bits (whole 3-byte words)");
    }
    byte[] packed = BitPacking.pack(codes, count, storageBits);
    String values = g.unpack(g.uint8s(packed, packed.length), packed.length, storageBits);
    return signed ? g.signExtend(values, storageBits) : values;
  }
}
