package dev.bitsweep.lm;

import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.TensorValues;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Test helper: the generated LLM's forward pass in plain double loops, weights read back from its data file. */
final class LlmReference {
  private final LlmShape shape;
  private final Map<String, float[]> weights = new HashMap<>();

  LlmReference(Path modelFile, LlmShape shape) {
    this.shape = shape;
    OnnxModel model = OnnxModel.read(modelFile);
    for (Onnx.TensorProto tensor : model.proto().getGraph().getInitializerList()) {
      weights.put(tensor.getName(), TensorValues.floats(tensor, model.path(), model.directory()));
    }
  }

  float[] weight(String name) {
    return weights.get(name);
  }

  /** Logits [tokens.length, vocab] of one sequence. */
  double[][] logits(long[] tokens) {
    int d = shape.dim();
    int t = tokens.length;
    double[][] x = new double[t][d];
    float[] embed = weights.get("embed.weight");
    for (int i = 0; i < t; i++) {
      for (int j = 0; j < d; j++) {
        x[i][j] = embed[(int) tokens[i] * d + j];
      }
    }
    for (int b = 0; b < shape.blocks(); b++) {
      String p = "blocks." + b + ".";
      double[][] attn = matmul(matmul(layerNorm(x, p + "ln1"), p + "attn_q.weight", d), p + "attn_o.weight", d);
      x = add(x, attn);
      double[][] up = matmul(layerNorm(x, p + "ln2"), p + "mlp_up.weight", 4 * d);
      for (double[] row : up) {
        for (int j = 0; j < row.length; j++) {
          row[j] = Math.max(0, row[j]);
        }
      }
      x = add(x, matmul(up, p + "mlp_down.weight", d));
    }
    return matmul(layerNorm(x, "ln_f"), "lm_head.weight", shape.vocab());
  }

  private double[][] layerNorm(double[][] x, String name) {
    float[] scale = weights.get(name + ".scale");
    float[] bias = weights.get(name + ".bias");
    double[][] out = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double mean = 0;
      for (double v : x[i]) {
        mean += v;
      }
      mean /= x[i].length;
      double var = 0;
      for (double v : x[i]) {
        var += (v - mean) * (v - mean);
      }
      var /= x[i].length;
      double inv = 1 / Math.sqrt(var + LlmGenerator.EPSILON);
      out[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        out[i][j] = (x[i][j] - mean) * inv * scale[j] + bias[j];
      }
    }
    return out;
  }

  private double[][] matmul(double[][] x, String name, int cols) {
    float[] w = weights.get(name);
    double[][] out = new double[x.length][cols];
    for (int i = 0; i < x.length; i++) {
      for (int k = 0; k < x[i].length; k++) {
        double a = x[i][k];
        for (int j = 0; j < cols; j++) {
          out[i][j] += a * w[k * cols + j];
        }
      }
    }
    return out;
  }

  private static double[][] add(double[][] a, double[][] b) {
    double[][] out = new double[a.length][a[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        out[i][j] = a[i][j] + b[i][j];
      }
    }
    return out;
  }
}
