package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bitsweep.Fixtures;
import dev.bitsweep.data.DataException;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.InputFeed;
import dev.bitsweep.data.InputLayout;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.spec.SweepSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sequences as the unit of fan-out, and the sequence and state layouts that are errors. */
class SequenceLayoutTest {
  private static final Path SET = Fixtures.repositoryRoot().resolve("calibration-data/streaming-gru");
  @TempDir Path temp;

  private static List<ModelInput> gruInputs(InputFeed state) {
    return InputLayout.apply(OnnxModel.read(SET.resolve("model.onnx")).proto(),
        Map.of("sr", InputFeed.constant(16000), "h", state), SET);
  }

  @Test
  void batchesAreWholeSequences() {
    Dataset eval = Dataset.open(SET.resolve("eval"), gruInputs(InputFeed.state("h_out", null, 1)), false);
    List<Integer> starts = new ArrayList<>();
    for (int s : eval.sequenceStarts()) {
      starts.add(s);
    }
    assertEquals(List.of(0, 12, 21, 36, 46, 60), starts, "sequences of 12, 9, 15, 10, 14, 11 frames");
    SweepPlan plan = new SweepPlan("s", "/m.onnx", "a", 1, 13, List.of(), "/eval", "b", 71, 4, null,
        SweepSpec.Task.AGREEMENT, "/staging", List.of(), "v", starts);
    assertEquals(2, plan.batchCount());
    assertEquals(List.of(0, 46, 46, 71), List.of(plan.batchStart(0), plan.batchEnd(0), plan.batchStart(1),
        plan.batchEnd(1)));
  }

  @Test
  void aSequenceThatResumesIsAnError() throws Exception {
    Path eval = Files.createDirectories(temp.resolve("eval"));
    Files.copy(SET.resolve("eval/x.npy"), eval.resolve("x.npy"));
    long[] ids = new long[71];
    ids[70] = 0;
    for (int i = 1; i < 70; i++) {
      ids[i] = i < 35 ? 1 : 2;
    }
    writeInt64(eval.resolve("sequence_ids.npy"), ids);
    DataException e = assertThrows(DataException.class,
        () -> Dataset.open(eval, gruInputs(InputFeed.state("h_out", null, 1)), false));
    assertEquals("sequence file " + eval.resolve("sequence_ids.npy") + ": sequence 0 resumes at frame 70 after other"
        + " frames; keep each sequence's frames contiguous", e.getMessage());
  }

  @Test
  void anInitialStateOfTheWrongShapeIsAnError() throws Exception {
    Path initial = temp.resolve("h0.npy");
    Files.copy(SET.resolve("eval/x.npy"), initial);
    DataException e = assertThrows(DataException.class, () -> gruInputs(InputFeed.state("h_out", initial.toString(), 1)));
    assertEquals("state input 'h': initial file " + initial + " is float32 [71, 16] but the state of one frame is "
        + "float32 [2, 1, 32]", e.getMessage());
  }

  @Test
  void aStateFromAMissingOutputIsAnError() {
    DataException e = assertThrows(DataException.class, () -> gruInputs(InputFeed.state("h_next", null, 1)));
    assertEquals("model input 'h' is a state carried from output 'h_next', which the model does not have: its "
        + "outputs are [y, h_out]", e.getMessage());
  }

  @Test
  void frameFilesWithoutAStateAreAnError() {
    List<ModelInput> inputs = InputLayout.apply(OnnxModel.read(SET.resolve("model.onnx")).proto(),
        Map.of("sr", InputFeed.constant(16000)), SET);
    DataException e = assertThrows(DataException.class, () -> Dataset.open(SET.resolve("eval"), inputs, false));
    assertEquals("no data for model input 'h': expected " + SET.resolve("eval/h.npy") + " (found sequence_ids.npy, "
        + "x.npy; the model's inputs are [x, h, sr])", e.getMessage());
  }

  private static void writeInt64(Path file, long[] values) throws Exception {
    String header = "{'descr': '<i8', 'fortran_order': False, 'shape': (" + values.length + ",), }";
    int total = 10 + header.length() + 1;
    header = header + " ".repeat((64 - total % 64) % 64) + "\n";
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.write(header.length() & 0xff);
    out.write(header.length() >> 8);
    out.write(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    java.nio.ByteBuffer data = java.nio.ByteBuffer.allocate(values.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      data.putLong(v);
    }
    out.write(data.array());
    Files.write(file, out.toByteArray());
  }
}
