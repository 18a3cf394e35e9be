package dev.bitsweep.lm;

/**
 * The shape of a generated LLM-shaped model: a token embedding [vocab, dim], {@code blocks} blocks of
 * MatMul [dim, dim] x2 and an MLP [dim, 4 dim] + Relu + [4 dim, dim] with residual Adds and LayerNormalization,
 * a final LayerNormalization and an lm_head MatMul [dim, vocab].
 */
public record LlmShape(int dim, int blocks, int vocab) {
  public LlmShape {
    if (dim < 1 || blocks < 1 || vocab < 2) {
      throw new IllegalArgumentException("model shape needs dim >= 1, blocks >= 1 and vocab >= 2 (got dim " + dim
          + ", blocks " + blocks + ", vocab " + vocab + ")");
    }
    if ((long) vocab * dim > Integer.MAX_VALUE || 4L * dim * dim > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("model shape dim " + dim + ", vocab " + vocab + " gives tensors above 2^31"
          + " elements; use a smaller dim or vocab");
    }
  }

  public long params() {
    long d = dim;
    return 2L * vocab * d + blocks * (10 * d * d + 4 * d) + 2 * d;
  }

  public long bytes() {
    return 4 * params();
  }

  /**
   * A shape of about {@code params} parameters at the given vocabulary: the width grows with size the way published
   * decoder families do (512 below 100 M, 768 below 200 M, 1024 below 700 M, 2048 below 3 B, 4096 below 20 B, then
   * 8192), and the block count fills the rest (125M -> 768 x 13, 350M -> 1024 x 27, 1.3B -> 2048 x 28).
   */
  public static LlmShape forParams(long params, int vocab) {
    int dim = params < 100_000_000L ? 512 : params < 200_000_000L ? 768 : params < 700_000_000L ? 1024
        : params < 3_000_000_000L ? 2048 : params < 20_000_000_000L ? 4096 : 8192;
    long d = dim;
    long rest = params - 2L * vocab * d - 2 * d;
    long blocks = Math.max(1, Math.round(rest / (double) (10 * d * d + 4 * d)));
    return new LlmShape(dim, Math.toIntExact(blocks), vocab);
  }

  /** Parses a parameter count such as {@code 125M}, {@code 1.3B}, {@code 50000000}. */
  public static long parseParams(String text) {
    String t = text.trim().toUpperCase(java.util.Locale.ROOT);
    double scale = 1;
    if (t.endsWith("K")) {
      scale = 1e3;
    } else if (t.endsWith("M")) {
      scale = 1e6;
    } else if (t.endsWith("B") || t.endsWith("G")) {
      scale = 1e9;
    }
    String number = scale == 1 ? t : t.substring(0, t.length() - 1);
    try {
      double value = Double.parseDouble(number) * scale;
      if (!(value >= 1000) || value > 1e12) {
        throw new NumberFormatException();
      }
      return Math.round(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("parameter count '" + text + "' is not a number like 125M, 1.3B or"
          + " 50000000 (between 1K and 1000B)");
    }
  }
}
