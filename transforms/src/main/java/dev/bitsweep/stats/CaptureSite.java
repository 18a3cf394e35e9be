package dev.bitsweep.stats;

import dev.bitsweep.calibrate.Im2col;
import java.io.Serializable;

/**
 * One node that consumes a layer's weight, and how its activation input becomes Hessian rows.
 *
 * @param activation the name of the node's activation input tensor
 * @param kind MatMul (rows = last axis), Gemm (rows of A, or of Aᵀ when {@code transposed}) or Conv (im2col)
 * @param transposed Gemm's transA
 * @param convGeometry the Conv's kernel, strides, pads, dilations and group, in {@link Im2col.Geometry}'s order (it
 *     is not serializable itself); for auto_pad SAME_* the pads are resolved per input size
 * @param autoPad the Conv's auto_pad (NOTSET, VALID, SAME_UPPER, SAME_LOWER)
 * @param oneDimensional a 1-D Conv ([N, C, L] input, treated as [N, C, 1, L] with a 1 x k kernel)
 * @param graphPath the graph that holds the node ({@link dev.bitsweep.onnx.GraphPath}): "" for the main graph, else
 *     an If branch or Loop/Scan body, where the activation is only seen when that branch runs, once per iteration
 */
public record CaptureSite(String activation, Kind kind, boolean transposed, int[] convGeometry, String autoPad,
    boolean oneDimensional, String graphPath) implements Serializable {

  public enum Kind { MATMUL, GEMM, CONV }

  static CaptureSite matMul(String activation, String graphPath) {
    return new CaptureSite(activation, Kind.MATMUL, false, null, "NOTSET", false, graphPath);
  }

  static CaptureSite gemm(String activation, boolean transA, String graphPath) {
    return new CaptureSite(activation, Kind.GEMM, transA, null, "NOTSET", false, graphPath);
  }

  static CaptureSite conv(String activation, Im2col.Geometry g, String autoPad, boolean oneDimensional,
      String graphPath) {
    return new CaptureSite(activation, Kind.CONV, false, new int[] {g.kernelH(), g.kernelW(), g.strideH(),
        g.strideW(), g.padTop(), g.padLeft(), g.padBottom(), g.padRight(), g.dilationH(), g.dilationW(), g.groups()},
        autoPad, oneDimensional, graphPath);
  }

  /** The Conv's geometry as declared (explicit pads). */
  public Im2col.Geometry conv() {
    int[] g = convGeometry;
    return new Im2col.Geometry(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10]);
  }

  /** The geometry for an input of {@code height x width}, with SAME_* padding resolved as ONNX defines it. */
  Im2col.Geometry geometryFor(int height, int width) {
    Im2col.Geometry conv = conv();
    if (!autoPad.startsWith("SAME")) {
      return conv;
    }
    int[] vertical = samePads(height, conv.kernelH(), conv.strideH(), conv.dilationH());
    int[] horizontal = samePads(width, conv.kernelW(), conv.strideW(), conv.dilationW());
    return new Im2col.Geometry(conv.kernelH(), conv.kernelW(), conv.strideH(), conv.strideW(), vertical[0],
        horizontal[0], vertical[1], horizontal[1], conv.dilationH(), conv.dilationW(), conv.groups());
  }

  /** [begin, end] pads so that the output has ceil(size / stride) positions; SAME_UPPER puts the odd one at the end. */
  private int[] samePads(int size, int kernel, int stride, int dilation) {
    int output = (size + stride - 1) / stride;
    int total = Math.max(0, (output - 1) * stride + (kernel - 1) * dilation + 1 - size);
    int small = total / 2;
    return autoPad.equals("SAME_UPPER") ? new int[] {small, total - small} : new int[] {total - small, small};
  }
}
