package dev.bitsweep.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A Hessian file holds an accumulator exactly; summing a file in equals {@link HessianAccumulator#merge} bit for bit. */
class HessianFileTest {
  private static HessianAccumulator accumulator(long seed) {
    Random random = new Random(seed);
    HessianAccumulator sum = new HessianAccumulator("conv.w", 5, 2);
    for (int group = 0; group < 2; group++) {
      float[] rows = new float[7 * 5];
      for (int i = 0; i < rows.length; i++) {
        rows[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(6) - 3));
      }
      sum.addRows(group, rows, 7);
    }
    return sum;
  }

  private static byte[] bytes(HessianAccumulator sum) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    HessianFile.write(sum, out);
    return out.toByteArray();
  }

  @Test
  void aFileHoldsTheAccumulatorExactly() throws IOException {
    HessianAccumulator original = accumulator(1);
    byte[] file = bytes(original);
    assertEquals(4 + 2 + "conv.w".length() + 4 + 4 + 8 + 8 + 8 + 2 * 25 * 8, file.length);
    HessianAccumulator read = HessianFile.read(new ByteArrayInputStream(file));
    assertArrayEquals(file, bytes(read));
    LayerStatistics expected = original.toStatistics();
    LayerStatistics statistics = HessianFile.readStatistics(new ByteArrayInputStream(file));
    assertEquals("conv.w", statistics.layer());
    assertEquals(5, statistics.dim());
    assertEquals(2, statistics.groups());
    assertEquals(14, statistics.rows());
    assertEquals(expected.min(), statistics.min());
    assertEquals(expected.max(), statistics.max());
    assertArrayEquals(expected.hessian(), statistics.hessian(), "mirrored like toStatistics");
  }

  @Test
  void addingAFileIsMerge() throws IOException {
    HessianAccumulator merged = accumulator(2).merge(accumulator(3));
    HessianAccumulator streamed = accumulator(2);
    HessianFile.add(streamed, new ByteArrayInputStream(bytes(accumulator(3))));
    assertArrayEquals(bytes(merged), bytes(streamed));
    assertEquals(28, streamed.rows());
  }

  @Test
  void anotherLayersOrAForeignFileIsRefused() throws IOException {
    byte[] other = bytes(new HessianAccumulator("fc.w", 5, 2));
    IOException e = assertThrows(IOException.class,
        () -> HessianFile.add(accumulator(4), new ByteArrayInputStream(other)));
    assertEquals("holds the Hessian of fc.w (dim 5, groups 2), not of conv.w (dim 5, groups 2)", e.getMessage());
    IOException foreign = assertThrows(IOException.class,
        () -> HessianFile.read(new ByteArrayInputStream(new byte[] {(byte) 0xac, (byte) 0xed, 0, 5})));
    assertEquals("is not a bitsweep Hessian file (it starts with 0xaced0005)", foreign.getMessage());
  }
}
