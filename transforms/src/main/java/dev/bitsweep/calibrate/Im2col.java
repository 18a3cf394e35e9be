package dev.bitsweep.calibrate;

/**
 * Turns a Conv's NCHW input activation into the patch rows its weights see, so a conv layer's Hessian is built
 * exactly like a MatMul's: one row per output position (image, oh, ow), one column per weight column.
 *
 * <p>Column order matches the canonical weight layout of an ONNX Conv weight [Cout, Cin/g, kh, kw] flattened to
 * columns [Cin/g, kh, kw]: column {@code (ci * kh + ki) * kw + kj} holds input channel {@code g * Cin/g + ci} at
 * offset (ki, kj) of the (dilated) kernel window. Groups: input channels split evenly into {@code groups} consecutive
 * runs; group g's patches only contain its own run of channels, and its Hessian belongs to output channels
 * (weight rows) {@code [g * Cout/g, (g+1) * Cout/g)} (see {@link Hessians}). A depthwise conv (groups = Cin) thus has
 * one kh·kw x kh·kw Hessian per channel. Zero padding yields zero entries, as in the convolution itself.
 *
 * <p>Explicit pads only ([top, left, bottom, right], ONNX order); auto_pad must be resolved by the caller. A 1-D conv
 * is the 2-D case with H = 1 and a 1 x k kernel.
 */
public final class Im2col {
  private Im2col() {}

  /** A 2-D convolution's geometry in ONNX terms. */
  public record Geometry(int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft, int padBottom,
      int padRight, int dilationH, int dilationW, int groups) {
    public Geometry {
      if (kernelH <= 0 || kernelW <= 0 || strideH <= 0 || strideW <= 0 || dilationH <= 0 || dilationW <= 0
          || groups <= 0 || padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
        throw new IllegalArgumentException("conv geometry needs positive kernel, strides, dilations and groups and "
            + "non-negative pads, got " + this);
      }
    }

    /** Square kernel, unit stride and dilation, symmetric padding. */
    public static Geometry of(int kernel, int pad, int groups) {
      return new Geometry(kernel, kernel, 1, 1, pad, pad, pad, pad, 1, 1, groups);
    }

    public int outputHeight(int height) {
      return (height + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1;
    }

    public int outputWidth(int width) {
      return (width + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1;
    }

    /** Columns of one group's patch rows: (channels / groups) * kh * kw. */
    public int patchSize(int channels) {
      return channels / groups * kernelH * kernelW;
    }
  }

  /**
   * The patch rows of {@code group} for one image {@code image} of an [N, C, H, W] input: OH * OW rows of
   * {@link Geometry#patchSize(int)} values, row-major.
   */
  public static float[] patches(float[] input, int channels, int height, int width, int image, Geometry conv,
      int group) {
    if (channels % conv.groups() != 0) {
      throw new IllegalArgumentException(conv.groups() + " conv groups do not divide the " + channels
          + " input channels");
    }
    int outH = conv.outputHeight(height);
    int outW = conv.outputWidth(width);
    if (outH <= 0 || outW <= 0) {
      throw new IllegalArgumentException("a " + height + "x" + width + " input is smaller than the conv window "
          + conv);
    }
    int groupChannels = channels / conv.groups();
    int kh = conv.kernelH();
    int kw = conv.kernelW();
    int patch = groupChannels * kh * kw;
    float[] rows = new float[outH * outW * patch];
    long imageBase = (long) image * channels * height * width;
    for (int oh = 0; oh < outH; oh++) {
      for (int ow = 0; ow < outW; ow++) {
        int rowBase = (oh * outW + ow) * patch;
        for (int ci = 0; ci < groupChannels; ci++) {
          long channelBase = imageBase + (long) (group * groupChannels + ci) * height * width;
          for (int ki = 0; ki < kh; ki++) {
            int y = oh * conv.strideH() - conv.padTop() + ki * conv.dilationH();
            for (int kj = 0; kj < kw; kj++) {
              int x = ow * conv.strideW() - conv.padLeft() + kj * conv.dilationW();
              boolean inside = y >= 0 && y < height && x >= 0 && x < width;
              float value = inside ? input[(int) (channelBase + (long) y * width + x)] : 0f;
              rows[rowBase + (ci * kh + ki) * kw + kj] = value;
            }
          }
        }
      }
    }
    return rows;
  }
}
