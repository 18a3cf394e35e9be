package dev.bitsweep.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.TinyLm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task language_model on models and data it cannot mean anything for ends with exit code 2 before any job runs,
 * naming the inputs or outputs and the field to set, and publishes nothing: no int64 input, two int64 inputs and
 * none named, a named input the model lacks, logits of rank 2 (by default and named), token ids outside the logits'
 * vocabulary.
 */
class LanguageModelBadInputTest {
  @TempDir Path dir;

  private static final String INT8 = "configs:\n  - {method: linear_quantize, mode: linear_symmetric, dtype: int8, "
      + "granularity: per_channel}\nweight_threshold: 0\n";

  private String run(String specText, String... fragments) throws IOException {
    Path spec = dir.resolve("spec.yaml");
    Files.writeString(spec, specText + "out: " + dir.resolve("out") + "\n");
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = Main.execute(new String[] {"sweep", spec.toString(), "--runner", "direct"});
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
    String message = err.toString(StandardCharsets.UTF_8);
    assertEquals(ExitCodes.BAD_INPUT, code, message + out);
    for (String fragment : fragments) {
      assertTrue(message.contains(fragment), "expected '" + fragment + "' in: " + message);
    }
    assertFalse(Files.exists(dir.resolve("out").resolve("runs")), "no results may be published");
    return message;
  }

  private String spec(Path model, String task, Path eval) {
    return "name: bad-lm\nmodel: " + model + "\ntask: " + task + "\neval_data: " + eval + "\n" + INT8;
  }

  @Test
  void aModelWithoutAnInt64Input() throws IOException {
    Path digits = Fixtures.digits();
    run(spec(digits.resolve("model.onnx"), "language_model", digits.resolve("eval")),
        "spec.yaml: task language_model: the model has no int64 input", "input FLOAT [?,1,8,8]");
  }

  @Test
  void twoInt64InputsAndNoneNamed() throws IOException {
    Path eval = data(10);
    Path model = model(false);
    run(spec(model, "language_model", eval), "several int64 inputs [ids, segments]",
        "task: {name: language_model, input: <name>}");
    run(spec(model, "{name: language_model, input: tokens}", eval), "input 'tokens' is not an input of",
        "ids INT64 [?,6]");
    run(spec(model, "{name: language_model, input: ids, attention_mask: mask}", eval),
        "attention_mask 'mask' is not an input of");
  }

  @Test
  void logitsOfRankTwo() throws IOException {
    Path eval = data(10);
    Path model = model(true);
    run(spec(model, "{name: language_model, input: ids}", eval), "the model has no float output of rank 3",
        "logits FLOAT [?,16]", "task: {name: language_model, output: <name>}");
    run(spec(model, "{name: language_model, input: ids, output: logits}", eval), "output 'logits' has rank 2",
        "logits [batch, sequence, vocabulary] (rank 3)");
  }

  @Test
  void tokenIdsOutsideTheLogitsVocabulary() throws IOException {
    // the embedding has 32 rows (ONNX Runtime runs ids up to 31) but the logits only 16 entries
    Path eval = data(20);
    run(spec(model(false), "{name: language_model, input: ids}", eval), "task language_model cannot mean",
        "token id 20 at sample 0, position 3 of input 'ids' is outside the vocabulary of output 'logits' (16 logits");
  }

  /** ids and segments [4, 6] int64 (segments all 0); ids[0][3] = {@code special}, the rest below 16. */
  private Path data(long special) throws IOException {
    Path eval = dir.resolve("eval-" + special);
    long[] ids = new long[24];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (i * 5) % 16;
    }
    ids[3] = special;
    TinyLm.writeInt64(eval.resolve("ids.npy"), ids);
    TinyLm.writeInt64(eval.resolve("segments.npy"), new long[24]);
    return eval;
  }

  private Path model(boolean pooled) throws IOException {
    return TinyLm.model(dir.resolve(pooled ? "pooled.onnx" : "tiny.onnx"), pooled, "ids", "segments");
  }
}
