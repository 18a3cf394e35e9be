package dev.bitsweep.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.onnx.OnnxModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DatasetTest {
  private static final List<ModelInput> DIGITS_INPUTS =
      ModelInput.of(OnnxModel.read(Fixtures.digits().resolve("model.onnx")).proto());

  @Test
  void digitsEvalSplitMatchesTheModel() {
    Dataset eval = Dataset.open(Fixtures.digits().resolve("eval"), DIGITS_INPUTS, true);
    assertEquals(540, eval.samples());
    assertArrayEquals(new long[] {540, 1, 8, 8}, eval.inputs().get("input").shape());
    assertEquals(540, eval.labels().orElseThrow().samples());
  }

  @Test
  void onnxTestDataLayoutLoadsLikeTheNpyFiles() {
    Path layout = Fixtures.resource("data/digits-onnx-layout");
    for (String split : new String[] {"eval", "calibration"}) {
      Dataset data = Dataset.open(layout.resolve(split), DIGITS_INPUTS, false);
      NpyArray expected = NpyArray.read(layout.resolve("expected/" + split + "_input.npy"));
      assertEquals(16, data.samples());
      assertArrayEquals(expected.floats(0, 16), data.inputs().get("input").floats(0, 16), split);
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "bad-shape        | input.npy has shape [4, 1, 7, 7] but model input 'input' expects [?,1,8,8]",
      "bad-rank         | input.npy has shape [4, 64] but model input 'input' expects [?,1,8,8]",
      "bad-dtype        | input.npy is float64 but model input 'input' is float32",
      "bad-name         | no data for model input 'input'",
      "bad-labels       | labels.npy has shape [3] but the inputs have 4 samples",
      "bad-labels-dtype | labels.npy has dtype float32; save class indices as int64",
      "bad-pickle       | input.npy holds a pickled object array",
      "bad-not-npy      | input.npy is not a NumPy .npy file"})
  void badDataIsRejectedNamingTheFileAndInput(String fixture, String expected) {
    Path dir = Fixtures.resource("data/" + fixture + "/eval");
    DataException e = assertThrows(DataException.class, () -> Dataset.open(dir, DIGITS_INPUTS, true));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
  }

  @Test
  void wrongFileNameListsWhatWasFound() {
    DataException e = assertThrows(DataException.class,
        () -> Dataset.open(Fixtures.resource("data/bad-name/eval"), DIGITS_INPUTS, false));
    assertTrue(e.getMessage().contains("found image.npy; the model's inputs are [input]"), e.getMessage());
  }

  @Test
  void multiInputSampleCountsMustAgree() {
    List<ModelInput> minilm = List.of(new ModelInput("input_ids", 7, new long[] {-1, -1}),
        new ModelInput("attention_mask", 7, new long[] {-1, -1}), new ModelInput("token_type_ids", 7, new long[] {-1, -1}));
    DataException count = assertThrows(DataException.class,
        () -> Dataset.open(Fixtures.resource("data/minilm-sample-count/eval"), minilm, false));
    assertTrue(count.getMessage().contains("attention_mask.npy has 3 samples but"), count.getMessage());
    DataException missing = assertThrows(DataException.class,
        () -> Dataset.open(Fixtures.resource("data/minilm-missing-input/eval"), minilm, false));
    assertTrue(missing.getMessage().contains("no data for model input 'token_type_ids'"), missing.getMessage());
  }

  @Test
  void missingDirectoryIsNamed() {
    Path nowhere = Fixtures.digits().resolve("no-such-split");
    DataException e = assertThrows(DataException.class, () -> Dataset.open(nowhere, DIGITS_INPUTS, false));
    assertTrue(e.getMessage().startsWith("data directory not found: " + nowhere), e.getMessage());
  }
}
