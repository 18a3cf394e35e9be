package dev.bitsweep.pipeline;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How much native memory a worker's evaluation sessions may take, and what one session is estimated to take. An
 * ONNX Runtime session holds the model's weights decoded (a package's compressed weights are folded back into
 * floats when the session is created) and, while it is created, the model file too; so a session is charged the
 * original model's size on disk plus its own model's. The default budget per worker JVM is three quarters of the
 * physical memory the JVM's heap leaves (container limits included): {@code (physical - max heap) * 3/4}.
 */
public final class EvalMemory {
  private EvalMemory() {}

  /** The default budget of this JVM. */
  public static long defaultBudgetBytes() {
    long physical = physicalBytes();
    long heap = Runtime.getRuntime().maxMemory();
    return Math.max(64L << 20, (physical - heap) / 4 * 3);
  }

  /** {@code bytes} when set (> 0), else this JVM's default. */
  public static long budgetBytes(long bytes) {
    return bytes > 0 ? bytes : defaultBudgetBytes();
  }

  /**
   * The native bytes of a session on a model of {@code modelBytes} on disk (file and external data) whose original
   * model is {@code originalBytes}: the decoded weights plus the file read while the session is created.
   */
  public static long sessionBytes(long originalBytes, long modelBytes) {
    return originalBytes + modelBytes;
  }

  static long physicalBytes() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getTotalMemorySize();
    }
    return Runtime.getRuntime().maxMemory() * 2;
  }

  /** The memory the machine can still give (Linux MemAvailable), or unlimited where it does not say. */
  static long availableBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or not readable: only the budget applies
    }
    return Long.MAX_VALUE;
  }

  /** Parses a size such as {@code 6g}, {@code 512m}, {@code 2048k} or a byte count; 0 or below is refused. */
  public static long parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    long unit = 1;
    if (t.endsWith("b")) {
      t = t.substring(0, t.length() - 1);
    }
    if (t.endsWith("k") || t.endsWith("m") || t.endsWith("g") || t.endsWith("t")) {
      unit = switch (t.charAt(t.length() - 1)) {
        case 'k' -> 1L << 10;
        case 'm' -> 1L << 20;
        case 'g' -> 1L << 30;
        default -> 1L << 40;
      };
      t = t.substring(0, t.length() - 1);
    }
    double value;
    try {
      value = Double.parseDouble(t);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a size; write e.g. 6g, 512m or a number of bytes");
    }
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException("'" + text + "' is not a size above 0; write e.g. 6g or 512m");
    }
    return (long) (value * unit);
  }

  static String format(long bytes) {
    return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.2f GB", bytes / (double) (1L << 30))
        : String.format(Locale.ROOT, "%.1f MB", bytes / (double) (1L << 20));
  }

  static String describeDefault() {
    return format(defaultBudgetBytes()) + " = (physical " + format(physicalBytes()) + " - heap "
        + format(Runtime.getRuntime().maxMemory()) + ") x 3/4";
  }
}
