package dev.bitsweep.eval.metrics;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/**
 * The ONNX Runtime session settings a package is measured with; {@link #text()} is recorded with every result.
 * Weight-only packages keep {@code session.disable_quant_qdq=1} (weight DequantizeLinear folded exactly into float
 * weights); activation-quantized packages are measured as they deploy, with ORT's QDQ fusion (QLinearConv,
 * QLinearMatMul, ... on int8 codes), and may also be measured with the fusion disabled (QDQ simulated in float).
 * Every session runs its operators one after another (inter-op 1, sequential) on its intra-op threads.
 */
public enum SessionSettings {
  QDQ_DISABLED("graph_optimization_level=ALL_OPT; session.disable_quant_qdq=1; intra_op_threads=1"),
  QDQ_FUSED("graph_optimization_level=ALL_OPT; intra_op_threads=1");

  private final String text;

  SessionSettings(String text) {
    this.text = text;
  }

  /** The settings of a one-thread session. */
  public String text() {
    return text;
  }

  /** The settings of a session with {@code intraOpThreads} intra-op threads. */
  public String text(int intraOpThreads) {
    return text.replace("intra_op_threads=1", "intra_op_threads=" + intraOpThreads);
  }

  public OrtSession.SessionOptions options() throws OrtException {
    return options(1);
  }

  public OrtSession.SessionOptions options(int intraOpThreads) throws OrtException {
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException("intra-op threads must be >= 1, got " + intraOpThreads);
    }
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    options.setIntraOpNumThreads(intraOpThreads);
    options.setInterOpNumThreads(1);
    options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
    if (this == QDQ_DISABLED) {
      options.addConfigEntry("session.disable_quant_qdq", "1");
    }
    return options;
  }
}
