package dev.bitsweep.onnx.encode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LayoutAndPackingTest {

  @Test
  void packsLsbFirstInWholeWords() {
    assertArrayEquals(new byte[] {(byte) 0x21, (byte) 0x03}, BitPacking.pack(i -> new int[] {1, 2, 3}[i], 3, 4),
        "low nibble first, like ONNX INT4");
    // 3-bit values 1..8 (8 wraps to 0): bits 001 010 011 100 101 110 111 000, LSB first
    byte[] three = BitPacking.pack(i -> i + 1, 8, 3);
    assertArrayEquals(new byte[] {(byte) 0b1101_0001, (byte) 0b0101_1000, (byte) 0b0001_1111}, three);
    assertEquals(3, BitPacking.pack(i -> 1, 1, 6).length, "6-bit words are 3 bytes");
    assertEquals(1, BitPacking.pack(i -> 1, 8, 1).length);
    assertEquals(6, BitPacking.storageBits(5));
  }

  @Test
  void packedValuesReadBack() {
    Random rnd = new Random(3);
    for (int nbits : new int[] {1, 2, 3, 4, 6, 8}) {
      int[] values = new int[1001];
      for (int i = 0; i < values.length; i++) {
        values[i] = rnd.nextInt(1 << nbits);
      }
      byte[] packed = BitPacking.pack(i -> values[i], values.length, nbits);
      assertEquals(BitPacking.packedBytes(values.length, nbits), packed.length);
      for (int i = 0; i < values.length; i++) {
        assertEquals(values[i], BitPacking.get(packed, i, nbits), nbits + "-bit value " + i);
      }
    }
  }

  @Test
  void canonicalLayoutMovesTheOutputAxisFirst() {
    // tensor [2, 3, 2] with output axis 1: canonical row r holds t[o][r][i] for o, i in order
    float[] tensor = new float[12];
    for (int i = 0; i < 12; i++) {
      tensor[i] = i;
    }
    CanonicalLayout layout = new CanonicalLayout(new long[] {2, 3, 2}, 1);
    assertEquals(3, layout.rows());
    assertEquals(4, layout.cols());
    float[] canonical = layout.toCanonical(tensor);
    assertArrayEquals(new float[] {0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11}, canonical);
    assertArrayEquals(tensor, layout.fromCanonical(canonical));
    assertArrayEquals(new long[] {3, 2, 2}, layout.permutedShape());
    assertArrayEquals(new long[] {1, 0, 2}, layout.inversePermutation());
  }
}
