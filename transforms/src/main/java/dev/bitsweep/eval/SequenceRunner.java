package dev.bitsweep.eval;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.InputFeed;
import dev.bitsweep.data.InputLayout;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.onnx.ModelException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs whole sequences frame by frame, feeding each state output of frame t to its state input at frame t+1 (from
 * the initial state at each sequence's first frame); the reader sees every frame's run, in order.
 */
final class SequenceRunner {
  private SequenceRunner() {}

  static <T> List<T> runEach(OrtSession session, List<ModelInput> inputs, Dataset data, int from, int to,
      Set<String> outputs, OrtSessions.Failing failing, OrtSessions.ResultReader<T> reader) {
    int[] starts = data.sequenceStarts();
    boolean fromOk = Arrays.binarySearch(starts, from) >= 0;
    boolean toOk = to == data.samples() || Arrays.binarySearch(starts, to) >= 0;
    if (!fromOk || !toOk) {
      throw new ModelException("frames " + from + ".." + to + " of " + data.directory() + " do not start and end on "
          + "sequence boundaries (sequence_ids.npy): state can only be carried through whole sequences");
    }
    List<ModelInput> states = inputs.stream().filter(i -> i.feed().kind() == InputFeed.Kind.STATE).toList();
    Set<String> wanted = new LinkedHashSet<>(outputs);
    states.forEach(s -> wanted.add(s.feed().stateOutput()));
    List<T> runs = new ArrayList<>();
    Map<String, float[]> initial = new HashMap<>();
    states.forEach(s -> initial.put(s.name(), initial(s)));
    Map<String, float[]> carried = new HashMap<>();
    for (int frame = from; frame < to; frame++) {
      if (Arrays.binarySearch(starts, frame) >= 0) {
        carried.putAll(initial);
      }
      Map<String, OnnxTensor> feeds = InputFeeder.feeds(inputs, data, frame, frame + 1, carried);
      try (OrtSession.Result result = session.run(feeds, wanted)) {
        runs.add(reader.read(feeds, result));
        for (ModelInput state : states) {
          String output = state.feed().stateOutput();
          float[] next = OrtSessions.floats((OnnxTensor) result.get(output).orElseThrow());
          if (next == null || next.length != carried.get(state.name()).length) {
            throw new ModelException("state output '" + output + "' has " + (next == null ? "no float32"
                : next.length) + " values but state input '" + state.name() + "' "
                + Arrays.toString(InputLayout.stateShape(state)) + " takes " + carried.get(state.name()).length);
          }
          carried.put(state.name(), next);
        }
      } catch (OrtException e) {
        throw new ModelException("ONNX Runtime failed " + failing.describe(frame, frame + 1) + ": " + e.getMessage(),
            e);
      } finally {
        feeds.values().forEach(OnnxTensor::close);
      }
    }
    return runs;
  }

  private static float[] initial(ModelInput state) {
    long[] shape = InputLayout.stateShape(state);
    if (state.feed().initialFile() == null) {
      return new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
    }
    NpyArray initial = NpyArray.read(Path.of(state.feed().initialFile()), "float32");
    return initial.floats(0, initial.samples());
  }
}
