package dev.bitsweep.eval;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.onnx.ModelException;
import java.nio.FloatBuffer;
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

  /**
   * Runs {@code session} on samples [from, to) of {@code data}, fetching {@code outputs}, and reads the result; the
   * input tensors are closed after. An ONNX Runtime failure is a {@link ModelException} "ONNX Runtime failed
   * {@code failing}: cause".
   */
  public static <T> T run(OrtSession session, List<ModelInput> inputs, Dataset data, int from, int to,
      Set<String> outputs, String failing, ResultReader<T> reader) {
    Map<String, OnnxTensor> feeds = ModelRunner.feeds(inputs, data, from, to);
    try (OrtSession.Result result = session.run(feeds, outputs)) {
      return reader.read(feeds, result);
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime failed " + failing + ": " + e.getMessage(), e);
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

  /**
   * Samples per run over [from, to): the batch size when the model fixes it (its first input's first axis), else all
   * of them at once.
   */
  public static int samplesPerRun(List<ModelInput> inputs, int from, int to) {
    long fixedBatch = inputs.isEmpty() ? -1 : inputs.get(0).fixedBatch();
    return fixedBatch > 0 ? (int) fixedBatch : Math.max(1, to - from);
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
