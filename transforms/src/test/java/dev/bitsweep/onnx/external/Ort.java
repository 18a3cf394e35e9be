package dev.bitsweep.onnx.external;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Map;

/** Test helper: runs a model ONNX Runtime loads by path (so it resolves external data itself) on one input. */
public final class Ort {
  private Ort() {}

  public static float[] runLongs(Path model, String input, long[] values, long... shape) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OnnxTensor tensor = OnnxTensor.createTensor(env, LongBuffer.wrap(values), shape)) {
      return run(env, model, Map.of(input, tensor));
    }
  }

  public static float[] runFloats(Path model, String input, float[] values, long... shape) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape)) {
      return run(env, model, Map.of(input, tensor));
    }
  }

  private static float[] run(OrtEnvironment env, Path model, Map<String, OnnxTensor> feeds) throws OrtException {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      try (OrtSession session = env.createSession(model.toString(), options);
          OrtSession.Result result = session.run(feeds)) {
        FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
        float[] values = new float[out.remaining()];
        out.get(values);
        return values;
      }
    }
  }
}
