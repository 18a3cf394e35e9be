package dev.bitsweep.eval;

import ai.onnxruntime.OrtEnvironment;
import dev.bitsweep.onnx.ModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The ONNX Runtime environment, reached only after checking what would crash it. ONNX Runtime 1.29 (Linux x64)
 * dies with SIGSEGV, without a message, when it starts in a process whose command line ({@code /proc/self/cmdline})
 * is about 3,980 bytes or longer (measured: 3,976 bytes start, 3,981 crash; a 25 kB class path passed in an
 * {@code @argfile} is fine, so it is the command line, not {@code java.class.path}, that counts). A JVM whose
 * command line is that long gets a {@link ModelException} saying so instead of a crash.
 */
public final class OrtRuntime {
  /** Command lines from this length on are refused (a margin below the measured crash). */
  static final int MAX_COMMAND_LINE_BYTES = 3900;
  private static volatile boolean checked;

  private OrtRuntime() {}

  public static OrtEnvironment environment() {
    if (!checked) {
      check(commandLineBytes());
      checked = true;
    }
    return OrtEnvironment.getEnvironment();
  }

  static void check(int commandLineBytes) {
    if (commandLineBytes >= MAX_COMMAND_LINE_BYTES) {
      throw new ModelException("this JVM's command line is " + commandLineBytes + " bytes; ONNX Runtime 1.29 crashes"
          + " (SIGSEGV) when it starts in a process whose command line is about 3,980 bytes or longer. Pass long"
          + " arguments such as the class path in a Java @argfile (java @file ...), as bin/bitsweep does");
    }
  }

  /** The length of this process's command line, or 0 where /proc does not tell it. */
  static int commandLineBytes() {
    try {
      return Files.readAllBytes(Path.of("/proc/self/cmdline")).length;
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return 0;
    }
  }
}
