package dev.bitsweep.activations;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ExtraOutputs;
import dev.bitsweep.eval.OrtSessions;
import dev.bitsweep.onnx.OnnxModel;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a model on calibration samples and returns the partial {@link ActivationHistogram} of each requested
 * activation tensor. The tensors become extra graph outputs ({@link ExtraOutputs}, as in
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
    return open(model, tensors, ModelInput.of(model.proto()));
  }

  /** As {@link #open(OnnxModel, List)}, feeding {@code inputs} as laid out (values, batch axes, states). */
  public static ActivationRecorder open(OnnxModel model, List<String> tensors, List<ModelInput> inputs) {
    ExtraOutputs copy = new ExtraOutputs(model, inputs);
    tensors.forEach(copy::fetch);
    if (copy.fetched().isEmpty()) {
      copy.fetchAdded(model.proto().getGraph().getOutput(0).getName());
    }
    OrtSession session = copy.open("its activations as extra outputs", ".bitsweep-activations-");
    return new ActivationRecorder(session, copy.inputs(), copy.graphInputs(), copy.fetched(), List.copyOf(tensors));
  }

  /** The partial histograms over samples [from, to) of {@code data}, one per float tensor, in request order. */
  public Map<String, ActivationHistogram> run(Dataset data, int from, int to) {
    Map<String, ActivationHistogram> sums = new LinkedHashMap<>();
    OrtSessions.runEach(session, inputs, data, from, to, fetched,
        (first, end) -> "capturing activations on calibration samples " + first + ".." + end, (feeds, result) -> {
          for (String tensor : tensors) {
            OnnxTensor value = graphInputs.contains(tensor) ? feeds.get(tensor)
                : (OnnxTensor) result.get(tensor).orElseThrow();
            float[] values = OrtSessions.floats(value);
            if (values == null) {
              notFloat.add(tensor);
              continue;
            }
            sums.merge(tensor, ActivationHistogram.of(tensor, values), ActivationHistogram::plus);
          }
          return null;
        });
    return sums;
  }

  /** Requested tensors that are not float32 (seen so far); they are not quantized. */
  public Set<String> notFloat() {
    return Set.copyOf(notFloat);
  }

  @Override
  public void close() {
    OrtSessions.close(session);
  }
}
