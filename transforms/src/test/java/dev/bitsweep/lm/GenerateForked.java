package dev.bitsweep.lm;

import dev.bitsweep.onnx.external.Forked;
import java.nio.file.Path;

/** Run in a forked small-heap JVM by the tests: generates a model and prints its sizes and the peak heap. */
public final class GenerateForked {
  public static void main(String[] args) {
    LlmShape shape = new LlmShape(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
    long start = System.nanoTime();
    LlmGenerator.Written written = LlmGenerator.writeModel(shape, 7, Path.of(args[0]));
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.println("data_bytes=" + written.dataBytes());
    System.out.println("model_bytes=" + written.modelBytes());
    System.out.println("seconds=" + seconds);
    System.out.println("mb_per_s=" + written.dataBytes() / 1e6 / seconds);
    System.out.println("peak_heap_bytes=" + Forked.peakHeapBytes());
    System.out.println("max_heap_bytes=" + Runtime.getRuntime().maxMemory());
  }
}
