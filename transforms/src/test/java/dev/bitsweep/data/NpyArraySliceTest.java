package dev.bitsweep.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NpyArraySliceTest {
  @Test
  void floatAndLongSlicesReadTheRightSamplesLittleEndian() {
    ByteBuffer floats = ByteBuffer.allocate(4 * 6).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) {
      floats.putFloat(i * 1.5f - 2f);
    }
    floats.flip();
    NpyArray f = NpyArray.of(Path.of("f.npy"), "float32", new long[] {3, 2}, floats);
    assertArrayEquals(new float[] {1f, 2.5f, 4f, 5.5f}, f.floats(1, 3), 0f);
    assertArrayEquals(new long[] {1, 2, 4, 5}, f.longs(1, 3));

    ByteBuffer longs = ByteBuffer.allocate(8 * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : new long[] {101, -7, 1L << 40, 0}) {
      longs.putLong(v);
    }
    longs.flip();
    NpyArray l = NpyArray.of(Path.of("l.npy"), "int64", new long[] {4}, longs);
    assertArrayEquals(new long[] {-7, 1L << 40}, l.longs(1, 3));
    assertArrayEquals(new float[] {101f, -7f}, l.floats(0, 2), 0f);
  }
}
