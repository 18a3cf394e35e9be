package dev.bitsweep.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.lm.LlmShape;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bitsweep bench --sweep-size}: a measured sweep of a generated model (the figures are not asserted). */
class SweepBenchTest {
  @TempDir Path dir;

  /** dim 512, 1 block, vocab 64: 6 layers (embedding, q, o, up, down, lm_head) per config, 2 configs. */
  @Test
  void sweepsAGeneratedModelAndCountsEveryStage() throws Exception {
    LlmShape shape = LlmShape.forParams(200_000, 64);
    assertEquals(new LlmShape(512, 1, 64), shape);
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    SweepBench.Result result = SweepBench.run(shape, dir.resolve("bench"), 2, 8, false,
        new PrintStream(console, true, StandardCharsets.UTF_8));
    assertEquals(List.of("int4-block32", "int8-per-channel"), result.runs().stream().map(r -> r.configId()).toList());
    assertTrue(result.runs().stream().allMatch(r -> r.status().equals("ok")), result.runs().toString());
    assertEquals(12, result.stages().get("compress").tasks());
    assertEquals(2, result.stages().get("package").tasks());
    assertEquals(Files.size(dir.resolve("bench/model/model.onnx")) + Files.size(dir.resolve("bench/model/model.onnx.data")),
        result.modelBytes());
    assertTrue(result.peakRssBytes() > result.peakHeapBytes() && result.peakHeapBytes() > 0, result.format());
    String text = result.format();
    assertTrue(text.contains("  compress    12 tasks, first done at "), text);
    assertTrue(text.contains("  package      2 tasks, first done at "), text);
  }

  @Test
  void badOptionsExitWithTwoAndWriteNothing() throws Exception {
    assertEquals(2, run("bench", "--sweep-size", "lots", "--sweep-dir", dir.resolve("a").toString()));
    assertFalse(Files.exists(dir.resolve("a")));
    Files.createDirectories(dir.resolve("b"));
    Files.writeString(dir.resolve("b/keep.txt"), "mine");
    assertEquals(2, run("bench", "--sweep-size", "1M", "--sweep-dir", dir.resolve("b").toString()));
    assertEquals(List.of(dir.resolve("b/keep.txt")), Files.list(dir.resolve("b")).toList());
    assertEquals(2, run("bench", "--sweep-size", "1M", "--sequences", "0", "--sweep-dir", dir.resolve("c").toString()));
  }

  private static int run(String... args) {
    PrintStream originalErr = System.err;
    try {
      System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      return Main.execute(args);
    } finally {
      System.setErr(originalErr);
    }
  }
}
