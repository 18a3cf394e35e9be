package dev.bitsweep.activations;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a model on calibration samples and returns the partial {@link ActivationHistogram} of each requested
 * activation tensor. The tensors become extra graph outputs (name-only ValueInfoProtos, as in
 * {@link dev.bitsweep.stats.ActivationCapture}); one ONNX Runtime session at the basic optimization level computes
 * them all. Tensors that turn out not to be float (shape arithmetic, indices) are listed in {@link #notFloat()} and
 * get no histogram.
 */
public final class ActivationRecorder implements AutoCloseable {
  private final OrtSession session;
  private final List<ModelInput> inputs;
  private final Set<String> graphInputs;
  private final Set<String> fetched;
  private final List<String> tensors;
  private final Set<String> notFloat = new LinkedHashSet<>();

  private ActivationRecorder(OrtSession session, List<ModelInput> inputs, Set<String> graphInputs,
      Set<String> fetched, List<String> tensors) {
    this.session = session;
    this.inputs = inputs;
    this.graphInputs = graphInputs;
    this.fetched = fetched;
    this.tensors = tensors;
  }

  public static ActivationRecorder open(OnnxModel model, List<String> tensors) {
    List<ModelInput> inputs = ModelInput.of(model.proto());
    Set<String> graphInputs = new HashSet<>();
    inputs.forEach(i -> graphInputs.add(i.name()));
    Set<String> outputs = new HashSet<>();
    model.proto().getGraph().getOutputList().forEach(o -> outputs.add(o.getName()));
    Set<String> fetched = new LinkedHashSet<>();
    Onnx.GraphProto.Builder graph = model.proto().getGraph().toBuilder();
    for (String tensor : tensors) {
      if (!graphInputs.contains(tensor) && fetched.add(tensor) && !outputs.contains(tensor)) {
        graph.addOutput(Onnx.ValueInfoProto.newBuilder().setName(tensor));
      }
    }
    if (fetched.isEmpty()) {
      fetched.add(model.proto().getGraph().getOutput(0).getName());
    }
    byte[] bytes = model.proto().toBuilder().setGraph(graph).build().toByteArray();
    try {
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      OrtSession session = usesExternalData(model.proto().getGraph())
          ? sessionBeside(model, bytes, options)
          : OrtEnvironment.getEnvironment().createSession(bytes, options);
      return new ActivationRecorder(session, inputs, graphInputs, fetched, List.copyOf(tensors));
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime cannot load " + model.path() + " with its activations as extra "
          + "outputs: " + e.getMessage(), e);
    }
  }

  private static boolean usesExternalData(Onnx.GraphProto graph) {
    return graph.getInitializerList().stream().anyMatch(t -> t.getExternalDataCount() > 0);
  }

  /** External data resolves relative to the model file only when ORT opens a path: write the copy beside it. */
  private static OrtSession sessionBeside(OnnxModel model, byte[] bytes, OrtSession.SessionOptions options)
      throws OrtException {
    Path temp = null;
    try {
      temp = Files.createTempFile(model.directory(), ".bitsweep-activations-", ".onnx");
      Files.write(temp, bytes);
      return OrtEnvironment.getEnvironment().createSession(temp.toString(), options);
    } catch (IOException e) {
      throw new ModelException("cannot write the activation-capture copy of " + model.path() + " beside it ("
          + e.getMessage() + "); its directory must be writable", e);
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException ignored) {
          // a leftover hidden temp file is harmless
        }
      }
    }
  }

  /** The partial histograms over samples [from, to) of {@code data}, one per float tensor, in request order. */
  public Map<String, ActivationHistogram> run(Dataset data, int from, int to) {
    long fixedBatch = inputs.isEmpty() ? -1 : inputs.get(0).fixedBatch();
    int step = fixedBatch > 0 ? (int) fixedBatch : Math.max(1, to - from);
    Map<String, ActivationHistogram> sums = new LinkedHashMap<>();
    for (int start = from; start < to; start += step) {
      Map<String, ActivationHistogram> part = runOnce(data, start, Math.min(to, start + step));
      part.forEach((name, h) -> sums.merge(name, h, ActivationHistogram::plus));
    }
    return sums;
  }

  private Map<String, ActivationHistogram> runOnce(Dataset data, int from, int to) {
    Map<String, OnnxTensor> feeds = ModelRunner.feeds(inputs, data, from, to);
    try (OrtSession.Result result = session.run(feeds, fetched)) {
      Map<String, ActivationHistogram> histograms = new LinkedHashMap<>();
      for (String tensor : tensors) {
        OnnxTensor value = graphInputs.contains(tensor) ? feeds.get(tensor)
            : (OnnxTensor) result.get(tensor).orElseThrow();
        FloatBuffer buffer = value.getFloatBuffer();
        if (buffer == null) {
          notFloat.add(tensor);
          continue;
        }
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        histograms.put(tensor, ActivationHistogram.of(tensor, values));
      }
      return histograms;
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime failed capturing activations on calibration samples " + from + ".."
          + to + ": " + e.getMessage(), e);
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  /** Requested tensors that are not float32 (seen so far); they are not quantized. */
  public Set<String> notFloat() {
    return Set.copyOf(notFloat);
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
