package dev.bitsweep.eval.metrics;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/**
 * The ONNX Runtime session settings a package is measured with; {@link #text()} is recorded with every result.
 * Weight-only packages keep {@code session.disable_quant_qdq=1} (weight DequantizeLinear folded exactly into float
 * weights); activation-quantized packages are measured as they deploy, with ORT's QDQ fusion (QLinearConv,
 * QLinearMatMul, ... on int8 codes), and may also be measured with the fusion disabled (QDQ simulated in float).
 */
public enum SessionSettings {
  QDQ_DISABLED("graph_optimization_level=ALL_OPT; session.disable_quant_qdq=1; intra_op_threads=1"),
  QDQ_FUSED("graph_optimization_level=ALL_OPT; intra_op_threads=1");

  private final String text;

  SessionSettings(String text) {
    this.text = text;
  }

  public String text() {
    return text;
  }

  public OrtSession.SessionOptions options() throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    options.setIntraOpNumThreads(1);
    options.setInterOpNumThreads(1);
    if (this == QDQ_DISABLED) {
      options.addConfigEntry("session.disable_quant_qdq", "1");
    }
    return options;
  }
}
