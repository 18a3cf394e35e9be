package dev.bitsweep.eval.metrics;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner.Output;
import dev.bitsweep.eval.OrtSessions;
import dev.bitsweep.onnx.ModelException;
import java.nio.file.Path;
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

  /**
   * The named outputs for samples [from, to), run as the inputs' layout says (frame by frame carrying state, or in
   * runs of the model's fixed batch; {@link OrtSessions#runEach}).
   */
  public Map<String, Output> run(Dataset data, int from, int to) {
    List<Map<String, Output>> runs = OrtSessions.runEach(session, inputs, data, from, to, outputs,
        (first, end) -> "on samples " + first + ".." + end + " of " + file, (feeds, result) -> {
          Map<String, Output> out = new LinkedHashMap<>();
          for (String name : outputs) {
            OnnxTensor tensor = (OnnxTensor) result.get(name).orElseThrow();
            float[] values = OrtSessions.floats(tensor);
            if (values == null) {
              throw new ModelException("output '" + name + "' of " + file + " is not a float tensor; the metrics read "
                  + "float scores");
            }
            out.put(name, new Output(values, ((TensorInfo) tensor.getInfo()).getShape()));
          }
          return out;
        });
    if (runs.size() == 1) {
      return runs.get(0);
    }
    Map<String, Output> joined = new LinkedHashMap<>();
    for (String name : runs.get(0).keySet()) {
      joined.put(name, Output.concat(runs.stream().map(run -> run.get(name)).toList()));
    }
    return joined;
  }

  @Override
  public void close() {
    OrtSessions.close(session);
  }
}
