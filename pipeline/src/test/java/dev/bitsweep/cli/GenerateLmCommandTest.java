package dev.bitsweep.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.spec.SweepSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateLmCommandTest {
  @TempDir Path dir;

  @Test
  void writesAModelTokenDataAndASpecThatReads() throws Exception {
    Path out = dir.resolve("llm");
    assertEquals(0, Main.execute("generate-lm", out.toString(), "--dim", "32", "--blocks", "2", "--vocab", "64",
        "--sequence-length", "16", "--eval-sequences", "5", "--calibration-sequences", "3"));
    OnnxModel model = OnnxModel.read(out.resolve("model.onnx"));
    assertTrue(Files.size(out.resolve("model.onnx.data")) >= 4L * (2 * 64 * 32 + 2 * 10 * 32 * 32));
    List<ModelInput> inputs = ModelInput.of(model.proto());
    assertEquals(1, inputs.size());
    assertEquals(5, Dataset.open(out.resolve("eval"), inputs, false).samples());
    assertEquals(3, Dataset.open(out.resolve("calibration"), inputs, false).samples());
    SweepSpec spec = SweepSpec.read(out.resolve("sweep.yaml"));
    assertEquals(out.resolve("model.onnx").toAbsolutePath().normalize(), spec.model().toAbsolutePath().normalize());
    assertEquals(4, spec.configs().size());
    // embedding, 2 x 4 block weights and lm_head are layers (the 32-element LayerNorm vectors are under a threshold of 512)
    assertEquals(1 + 8 + 1, LayerFinder.find(model.proto(), 512).layers().size());
  }

  @Test
  void theFortunesSpecReads() {
    SweepSpec spec = SweepSpec.read(dev.bitsweep.Fixtures.repositoryRoot().resolve("calibration-data/fortunes-lm/gptq.yaml"));
    assertEquals(1 + 4 + 4, spec.configs().size(), "k-means, GPTQ and RTN at 4/3 bits, per channel and g32");
  }

  @Test
  void badOptionsExitWithTwoAndWriteNothing() throws Exception {
    Path out = dir.resolve("x");
    assertEquals(2, run("generate-lm", out.toString(), "--params", "125M", "--dim", "512"));
    assertEquals(2, run("generate-lm", out.toString(), "--params", "lots"));
    assertEquals(2, run("generate-lm", out.toString(), "--dim", "0"));
    assertFalse(Files.exists(out));
    Files.createDirectories(out);
    Files.writeString(out.resolve("keep.txt"), "mine");
    assertEquals(2, run("generate-lm", out.toString(), "--dim", "8", "--blocks", "1", "--vocab", "10"));
    assertEquals(List.of(out.resolve("keep.txt")), Files.list(out).toList());
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
