package dev.bitsweep.onnx.external;

import dev.bitsweep.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Run in a forked small-heap JVM by the tests: packages SOURCE into OUT with NAME=FILE replacements. */
public final class PackageForked {
  public static void main(String[] args) throws Exception {
    Path source = Path.of(args[0]);
    Map<String, ByteSource> replacements = new LinkedHashMap<>();
    for (int i = 2; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      replacements.put(kv[0], FileRegion.of(Path.of(kv[1])));
    }
    long start = System.nanoTime();
    Onnx.ModelProto model = MappedModel.read(source);
    ExternalDataWriter.Result result = ExternalDataWriter.write(model, source.toAbsolutePath().getParent(),
        replacements, Path.of(args[1]));
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.println("data_bytes=" + result.dataBytes());
    System.out.println("model_bytes=" + result.modelBytes());
    System.out.println("external_tensors=" + result.externalTensors());
    System.out.println("seconds=" + seconds);
    System.out.println("mb_per_s=" + result.totalBytes() / 1e6 / seconds);
    System.out.println("peak_heap_bytes=" + Forked.peakHeapBytes());
    System.out.println("max_heap_bytes=" + Runtime.getRuntime().maxMemory());
  }
}
