package dev.bitsweep.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Test helper: runs the bitsweep CLI in this JVM and captures its exit code, stdout and stderr. */
public final class CliRun {
  /** A one-config spec tail: int8 per-channel linear quantization. */
  public static final String INT8 = "configs:\n  - method: linear_quantize\n    mode: linear_symmetric\n    dtype: int8\n"
      + "    granularity: per_channel\n";

  private CliRun() {}

  public record Outcome(int exitCode, String out, String err) {}

  public static Outcome bitsweep(String... args) {
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Main.execute(args);
      return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
  }
}
