package dev.bitsweep.eval;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.onnx.ModelException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What every ONNX Runtime session in bitsweep does the same way: run on samples with their input tensors closed
 * after, size the runs, copy float values out, close.
 */
public final class OrtSessions {
  private OrtSessions() {}

  /** Reads what one run fetched, while its input tensors ({@code feeds}, by input name) are still open. */
  @FunctionalInterface
  public interface ResultReader<T> {
    T read(Map<String, OnnxTensor> feeds, OrtSession.Result result) throws OrtException;
  }

  /** Completes "ONNX Runtime failed ..." for the run of samples [from, to), e.g. "on samples 0..8 of model.onnx". */
  @FunctionalInterface
  public interface Failing {
    String describe(int from, int to);
  }

  /**
   * Runs {@code session} over samples [from, to) of {@code data} the way the inputs' layout says, fetching
   * {@code outputs}, and reads every run in order: with state inputs, frame by frame through whole sequences carrying
   * the state ({@link SequenceRunner}); when the model fixes its batch, in runs of that many samples; else in one run.
   * Every path that runs a model (evaluation, its pre-flight check, calibration capture, the benchmark) runs it here.
   */
  public static <T> List<T> runEach(OrtSession session, List<ModelInput> inputs, Dataset data, int from, int to,
      Set<String> outputs, Failing failing, ResultReader<T> reader) {
    if (InputFeeder.stateful(inputs)) {
      return SequenceRunner.runEach(session, inputs, data, from, to, outputs, failing, reader);
    }
    int step = data.fixedBatch() > 0 ? data.fixedBatch() : Math.max(1, to - from);
    List<T> runs = new ArrayList<>();
    for (int start = from; start < to; start += step) {
      int end = Math.min(to, start + step);
      runs.add(runOnce(session, inputs, data, start, end, outputs, failing, reader));
    }
    return runs;
  }

  /**
   * One run on samples [from, to) (no state inputs); the input tensors are closed after. The failure text is made
   * only when it fails (a run of a small model takes microseconds).
   */
  private static <T> T runOnce(OrtSession session, List<ModelInput> inputs, Dataset data, int from, int to,
      Set<String> outputs, Failing failing, ResultReader<T> reader) {
    Map<String, OnnxTensor> feeds = ModelRunner.feeds(inputs, data, from, to);
    try (OrtSession.Result result = session.run(feeds, outputs)) {
      return reader.read(feeds, result);
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime failed " + failing.describe(from, to) + ": " + e.getMessage(), e);
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  /** A copy of a tensor's values, or null when it is not a float32 tensor. */
  public static float[] floats(OnnxTensor tensor) {
    FloatBuffer buffer = tensor.getFloatBuffer();
    if (buffer == null) {
      return null;
    }
    float[] values = new float[buffer.remaining()];
    buffer.get(values);
    return values;
  }

  /** Closes a session; a failure to close is a bug, not bad input. */
  public static void close(OrtSession session) {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }
}
