package dev.bitsweep.onnx.encode;

import dev.bitsweep.compress.DenseWeights;
import dev.bitsweep.compress.SparseWeights;
import java.util.Arrays;
import java.util.List;

/**
 * The decode side of a sparsity mask: the mask as int32 0/1 per weight, and for every unit (a weight, or a palette
 * vector of {@code unitSize} weights, kept when any of its weights is kept) the position of its code in the kept
 * codes. Kept codes are stored with one filler code in front, so that position is the inclusive prefix sum of the
 * unit mask: kept units read their own code, dropped units read a neighbour's (zeroed by {@link #applyMask}).
 */
final class SparseLayout {
  /** Largest unit count whose prefix sums the float MatMul decode (below opset 11) computes exactly. */
  static final long MAX_MATMUL_PREFIX_UNITS = 1L << 24;

  private final SparseWeights sparse;
  private final int unitSize;
  private final int units;
  private final int[] keptUnits;
  private final String mask;
  private final String position;

  SparseLayout(DecodeGraph g, SparseWeights sparse, int unitSize) {
    this.sparse = sparse;
    this.unitSize = unitSize;
    int weights = sparse.rows() * sparse.cols();
    this.units = weights / unitSize;
    this.keptUnits = keptUnits(sparse, unitSize, units);
    byte[] maskBytes = sparse.mask(); // already a 1-bit plane
    String bits = g.unpackPlane(g.uint8s(maskBytes, maskBytes.length), maskBytes.length, 1);
    this.mask = g.truncate(bits, 8L * maskBytes.length, weights);
    String unitMask = mask;
    if (unitSize > 1) {
      g.use(EncodingCatalog.SPARSE_VECTORS);
      float[] ones = new float[unitSize];
      Arrays.fill(ones, 1f);
      String perVector = g.reshape(g.cast(mask, DecodeGraph.FLOAT), units, unitSize);
      String keptWeights = g.node("MatMul", List.of(perVector, g.floats(new long[] {unitSize, 1}, ones)));
      unitMask = g.reshape(g.cast(g.cast(keptWeights, DecodeGraph.BOOL), DecodeGraph.INT32), units);
    }
    this.position = g.prefixSum(unitMask, units);
  }

  /** Whether {@link SparseLayout} can decode this many units exactly at the given opset. */
  static boolean supports(int opset, long units) {
    return opset >= 11 || units <= MAX_MATMUL_PREFIX_UNITS;
  }

  int keptUnitCount() {
    return keptUnits.length;
  }

  /** The codes of the kept units only, expanded to all units at decode time. */
  CodeStream keptCodes(BitPacking.ValueSource codeOfUnit) {
    return (g, nbits, signed) -> {
      BitPacking.ValueSource fillerFirst = i -> i == 0 ? 0 : codeOfUnit.get(keptUnits[i - 1]);
      String kept = CodeStream.storeAndUnpack(g, fillerFirst, keptUnits.length + 1, nbits, signed);
      return g.gather(kept, position, 0);
    };
  }

  /** Float kept values (plain pruning), expanded to all weights at decode time. */
  String keptFloats(DecodeGraph g, float[] canonicalValues) {
    float[] kept = new float[keptUnits.length + 1];
    for (int i = 0; i < keptUnits.length; i++) {
      kept[i + 1] = canonicalValues[keptUnits[i]];
    }
    String stored = g.floats(new long[] {kept.length}, kept);
    return g.reshape(g.gather(stored, position, 0), sparse.rows(), sparse.cols());
  }

  /**
   * Pruned weights to exactly +0, kept weights unchanged. ONNX Runtime's Where turns a selected -0.0 into +0.0, so
   * Where serves only when no kept weight decodes to -0.0; the arithmetic form keeps it.
   */
  String applyMask(DecodeGraph g, String decoded) {
    String zero = g.floats(new long[0], 0f);
    String grid = g.reshape(mask, sparse.rows(), sparse.cols());
    boolean useWhere = g.opset >= 9;
    if (useWhere && hasKeptNegativeZero()) {
      g.note("a kept weight is -0.0, which ONNX Runtime's Where would turn into +0.0: masked with Mul/Add instead");
      useWhere = false;
    }
    if (useWhere) {
      g.use(EncodingCatalog.MASK_WHERE);
      return g.node("Where", List.of(g.cast(grid, DecodeGraph.BOOL), decoded, zero));
    }
    g.use(EncodingCatalog.MASK_MUL);
    String m = g.cast(grid, DecodeGraph.FLOAT);
    // w*m is -0.0 for pruned negative weights; adding (0-m)*0 (+0 there, -0 where kept) makes them +0 and leaves
    // every kept value as it is.
    return g.add(g.mul(decoded, m), g.mul(g.sub(zero, m), zero));
  }

  private boolean hasKeptNegativeZero() {
    float[] values = sparse.kept() instanceof DenseWeights dense
        ? dense.matrix().values()
        : sparse.kept().decompress().values();
    for (int i = 0; i < values.length; i++) {
      if (Float.floatToRawIntBits(values[i]) == 0x80000000 && sparse.isKept(i)) {
        return true;
      }
    }
    return false;
  }

  private static int[] keptUnits(SparseWeights sparse, int unitSize, int units) {
    byte[] mask = sparse.mask();
    int weights = sparse.rows() * sparse.cols();
    int[] kept = new int[units];
    int count = 0;
    int lastUnit = -1;
    for (int b = 0; b < mask.length; b++) {
      int bits = mask[b] & 0xff;
      while (bits != 0) {
        int weight = b * 8 + Integer.numberOfTrailingZeros(bits);
        bits &= bits - 1;
        int unit = weight / unitSize;
        if (weight < weights && unit != lastUnit) {
          kept[count++] = unit;
          lastUnit = unit;
        }
      }
    }
    return Arrays.copyOf(kept, count);
  }
}
