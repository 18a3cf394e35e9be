package dev.bitsweep.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.onnx.ModelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A command line that would crash ONNX Runtime 1.29 at start is refused with a message instead. */
class OrtRuntimeTest {
  @Test
  void refusesCommandLinesFromTheLimitOn() {
    OrtRuntime.check(OrtRuntime.MAX_COMMAND_LINE_BYTES - 1);
    ModelException e = assertThrows(ModelException.class, () -> OrtRuntime.check(OrtRuntime.MAX_COMMAND_LINE_BYTES));
    assertEquals("this JVM's command line is 3900 bytes; ONNX Runtime 1.29 crashes (SIGSEGV) when it starts in a"
        + " process whose command line is about 3,980 bytes or longer. Pass long arguments such as the class path in a"
        + " Java @argfile (java @file ...), as bin/bitsweep does", e.getMessage());
  }

  @Test
  void thisJvmsCommandLineIsMeasured() {
    int bytes = OrtRuntime.commandLineBytes();
    assertTrue(bytes > 0 && bytes < OrtRuntime.MAX_COMMAND_LINE_BYTES, "test JVM command line: " + bytes);
  }

  /** Without the check this JVM dies with SIGSEGV (exit 139) inside ONNX Runtime's start. */
  @Test
  void aJvmWithALongCommandLineGetsTheMessageNotACrash() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-Dpadding=" + "x".repeat(4200), "-cp",
        System.getProperty("java.class.path"), StartRuntime.class.getName()));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the child JVM ended");
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(3, process.exitValue(), output);
    assertTrue(output.contains("ONNX Runtime 1.29 crashes (SIGSEGV) when it starts in a process whose command line"),
        output);
  }

  /** The child: reaches the environment the way bitsweep does. */
  static final class StartRuntime {
    public static void main(String[] args) {
      try {
        OrtRuntime.environment();
        System.exit(0);
      } catch (ModelException e) {
        System.out.println(e.getMessage());
        System.exit(3);
      }
    }
  }
}
