package dev.bitsweep.eval.metrics;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.ModelRunner.Output;
import dev.bitsweep.onnx.ModelException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Runs a model with ONNX Runtime under given {@link SessionSettings} and returns the named float outputs. */
public final class OutputRunner implements AutoCloseable {
  private final OrtSession session;
  private final List<ModelInput> inputs;
  private final Set<String> outputs;
  private final Path file;

  private OutputRunner(OrtSession session, List<ModelInput> inputs, Set<String> outputs, Path file) {
    this.session = session;
    this.inputs = inputs;
    this.outputs = outputs;
    this.file = file;
  }

  /** A session on {@code modelFile} (opened by path, so external data resolves) for {@code outputs}. */
  public static OutputRunner open(Path modelFile, List<ModelInput> inputs, Set<String> outputs,
      SessionSettings settings) {
    try {
      OrtSession session = OrtEnvironment.getEnvironment().createSession(modelFile.toString(), settings.options());
      for (String output : outputs) {
        if (!session.getOutputNames().contains(output)) {
          throw new ModelException("the metric reads output '" + output + "' but " + modelFile + " has outputs "
              + session.getOutputNames() + ": name one of them in the task's output field");
        }
      }
      return new OutputRunner(session, inputs, Set.copyOf(outputs), modelFile);
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime cannot load " + modelFile + ": " + e.getMessage(), e);
    }
  }

  /** The named outputs for samples [from, to) (run in fixed-size pieces when the model fixes its batch). */
  public Map<String, Output> run(Dataset data, int from, int to) {
    long fixedBatch = inputs.isEmpty() ? -1 : inputs.get(0).fixedBatch();
    int step = fixedBatch > 0 ? (int) fixedBatch : Math.max(1, to - from);
    Map<String, List<Output>> parts = new LinkedHashMap<>();
    for (int start = from; start < to; start += step) {
      runOnce(data, start, Math.min(to, start + step)).forEach((k, v) -> parts.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
    }
    Map<String, Output> joined = new LinkedHashMap<>();
    parts.forEach((name, list) -> joined.put(name, concat(list)));
    return joined;
  }

  private Map<String, Output> runOnce(Dataset data, int from, int to) {
    Map<String, OnnxTensor> feeds = ModelRunner.feeds(inputs, data, from, to);
    try (OrtSession.Result result = session.run(feeds, outputs)) {
      Map<String, Output> out = new LinkedHashMap<>();
      for (String name : outputs) {
        OnnxTensor tensor = (OnnxTensor) result.get(name).orElseThrow();
        FloatBuffer buffer = tensor.getFloatBuffer();
        if (buffer == null) {
          throw new ModelException("output '" + name + "' of " + file + " is not a float tensor; the metrics read "
              + "float scores");
        }
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        out.put(name, new Output(values, ((TensorInfo) tensor.getInfo()).getShape()));
      }
      return out;
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime failed on samples " + from + ".." + to + " of " + file + ": "
          + e.getMessage(), e);
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  private static Output concat(List<Output> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    int total = parts.stream().mapToInt(p -> p.values().length).sum();
    float[] values = new float[total];
    int offset = 0;
    long samples = 0;
    for (Output part : parts) {
      System.arraycopy(part.values(), 0, values, offset, part.values().length);
      offset += part.values().length;
      samples += part.shape()[0];
    }
    long[] shape = parts.get(0).shape().clone();
    shape[0] = samples;
    return new Output(values, shape);
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }
}
