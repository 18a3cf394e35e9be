package dev.bitsweep.lm;

import dev.bitsweep.onnx.external.ByteSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.SplittableRandom;

/**
 * {@code count} float32 values uniform in [center - halfWidth, center + halfWidth), generated on the fly from a seed
 * in 64 KiB chunks: the same seed gives the same bytes, and no tensor exists in the heap as a whole.
 */
public record RandomWeights(long seed, long count, float center, float halfWidth) implements ByteSource {
  private static final int CHUNK_FLOATS = 16384;

  /** A seed for one named tensor of a model generated from {@code modelSeed}. */
  public static long tensorSeed(long modelSeed, String tensorName) {
    long h = modelSeed * 0x9E3779B97F4A7C15L;
    for (int i = 0; i < tensorName.length(); i++) {
      h = (h ^ tensorName.charAt(i)) * 0x100000001B3L;
    }
    return h;
  }

  @Override
  public long size() {
    return 4 * count;
  }

  @Override
  public void copyTo(WritableByteChannel out) throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    ByteBuffer chunk = ByteBuffer.allocate(4 * CHUNK_FLOATS).order(ByteOrder.LITTLE_ENDIAN);
    for (long done = 0; done < count; ) {
      int n = (int) Math.min(CHUNK_FLOATS, count - done);
      chunk.clear();
      for (int i = 0; i < n; i++) {
        chunk.putFloat(next(random));
      }
      chunk.flip();
      while (chunk.hasRemaining()) {
        out.write(chunk);
      }
      done += n;
    }
  }

  /** All values at once, for small tensors and reference computations in tests. */
  public float[] values() {
    float[] values = new float[Math.toIntExact(count)];
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < values.length; i++) {
      values[i] = next(random);
    }
    return values;
  }

  private float next(SplittableRandom random) {
    float unit = (random.nextInt() >>> 8) * 0x1p-24f;
    return center + halfWidth * (2f * unit - 1f);
  }
}
