package dev.bitsweep.activations;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Activation quantization end to end, without Beam: record histograms on calibration data, turn each group's
 * combined histogram into quantization parameters, insert the QDQ pairs. The histograms are the statistics a
 * pipeline combines across workers ({@link ActivationHistogram#plus}); calibrate them on the fp32 model once and
 * quantize any weight-compressed variant with them (weight encodings do not rename activations).
 */
public final class ActivationQuantizer {
  private ActivationQuantizer() {}

  /** Histograms of every plan tensor over the first {@code samples} of {@code data}, in batches of {@code batch}. */
  public static Map<String, ActivationHistogram> calibrate(OnnxModel model, QdqPlan plan, Dataset data, int samples,
      int batch) {
    Map<String, ActivationHistogram> sums = new LinkedHashMap<>();
    try (ActivationRecorder recorder = ActivationRecorder.open(model, plan.tensors())) {
      for (int from = 0; from < samples; from += batch) {
        recorder.run(data, from, Math.min(samples, from + batch))
            .forEach((name, h) -> sums.merge(name, h, ActivationHistogram::plus));
      }
    }
    return sums;
  }

  /**
   * The parameters of every plan tensor that has a histogram (float tensors): members of one group (a Concat's
   * inputs and output) share the parameters of their summed histogram.
   */
  public static Map<String, QuantParams> params(QdqPlan plan, Map<String, ActivationHistogram> histograms,
      ActivationQuantConfig config) {
    Map<String, QuantParams> params = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> group : plan.members().entrySet()) {
      ActivationHistogram sum = ActivationHistogram.empty();
      boolean any = false;
      for (String member : group.getValue()) {
        ActivationHistogram h = histograms.get(member);
        if (h != null) {
          sum = sum.plus(h);
          any = true;
        }
      }
      if (!any) {
        continue;
      }
      double[] range = Calibrators.range(group.getKey(), sum, config);
      QuantParams p = QuantParams.of(range[0], range[1], config);
      for (String member : group.getValue()) {
        if (histograms.containsKey(member)) {
          params.put(member, p);
        }
      }
    }
    Map<String, QuantParams> ordered = new LinkedHashMap<>();
    for (String tensor : plan.tensors()) {
      if (params.containsKey(tensor)) {
        ordered.put(tensor, params.get(tensor));
      }
    }
    return ordered;
  }

  /**
   * {@code model} with QDQ pairs on its activation edges, calibrated by {@code histograms}; weight
   * DequantizeLinear + Reshape decodes are folded first ({@link WeightDequantizeFolding}) so the fusion sees them.
   */
  public static Onnx.ModelProto quantize(Onnx.ModelProto model, Map<String, ActivationHistogram> histograms,
      ActivationQuantConfig config) {
    model = WeightDequantizeFolding.fold(model);
    QdqPlan plan = QdqPlan.of(model);
    return QdqInserter.insert(model, params(plan, histograms, config));
  }
}
