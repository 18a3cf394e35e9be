package dev.bitsweep.onnx.external;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Test helper: runs a main class in a fresh JVM with a small heap and collects the {@code key=value} lines it prints. */
public final class Forked {
  private Forked() {}

  public record Outcome(int exitCode, String output, Map<String, String> values) {}

  public static Outcome run(String heap, Class<?> mainClass, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + heap, "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), mainClass.getName()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(20, TimeUnit.MINUTES)) {
      process.destroyForcibly();
    }
    String text = new String(out, StandardCharsets.UTF_8);
    Map<String, String> values = new java.util.LinkedHashMap<>();
    Matcher m = Pattern.compile("(?m)^([a-z_]+)=(\\S+)$").matcher(text);
    while (m.find()) {
      values.put(m.group(1), m.group(2));
    }
    return new Outcome(process.exitValue(), text, values);
  }

  /** The highest heap use of this JVM so far (sum of the heap pools' peaks), for a forked main to print. */
  public static long peakHeapBytes() {
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    return peak;
  }
}
