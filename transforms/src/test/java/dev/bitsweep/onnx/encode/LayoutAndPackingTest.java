package dev.bitsweep.onnx.encode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LayoutAndPackingTest {

  @Test
  void packsBitPlanesLsbFirst() {
    assertArrayEquals(new byte[] {(byte) 0x21, (byte) 0x0f}, BitPacking.packInt4(i -> new int[] {1, 2, -1}[i], 3),
        "ONNX INT4: low nibble first");
    // 2-bit values 0..3: bits 00 01 10 11 from the lowest
    assertArrayEquals(new byte[] {(byte) 0b1110_0100}, BitPacking.packPlane(i -> i, 4, 0, 2));
    // the high plane of 3-bit values 5, 2, 7 is bits 2: 1, 0, 1
    assertArrayEquals(new byte[] {(byte) 0b101}, BitPacking.packPlane(i -> new int[] {5, 2, 7}[i], 3, 2, 1));
    assertArrayEquals(new int[] {4, 2}, BitPacking.planes(6));
    assertArrayEquals(new int[] {4, 2, 1}, BitPacking.planes(7));
    assertEquals(2, BitPacking.planeBytes(9, 1));
  }

  @Test
  void planesReadBackEveryWidth() {
    Random rnd = new Random(3);
    for (int nbits = 1; nbits <= 8; nbits++) {
      int[] values = new int[1001];
      for (int i = 0; i < values.length; i++) {
        values[i] = rnd.nextInt(1 << nbits);
      }
      int shift = 0;
      int[] rebuilt = new int[values.length];
      int totalBytes = 0;
      for (int bits : BitPacking.planes(nbits)) {
        byte[] plane = BitPacking.packPlane(i -> values[i], values.length, shift, bits);
        totalBytes += plane.length;
        for (int i = 0; i < values.length; i++) {
          rebuilt[i] |= BitPacking.getFromPlane(plane, i, bits) << shift;
        }
        shift += bits;
      }
      assertEquals(nbits, shift);
      assertArrayEquals(values, rebuilt, nbits + "-bit planes");
      assertTrue(totalBytes <= (values.length * nbits + 7) / 8 + 2, "no wasted bits beyond a byte per plane");
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
