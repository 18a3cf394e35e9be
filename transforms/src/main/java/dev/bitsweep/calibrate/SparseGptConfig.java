package dev.bitsweep.calibrate;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SparseGPT (Frantar and Alistarh, 2023): prune a layer column by column, choosing the pruned weights with the OBS
 * saliency w² / [H⁻¹]²_ii and reconstructing the kept ones through the inverse Hessian, optionally quantizing the
 * kept weights in the same pass.
 *
 * @param targetSparsity fraction of weights set to zero, in [0, 1); with n:m it is n/m
 * @param pruneN with {@code pruneM}: prune {@code pruneN} weights of every {@code pruneM} consecutive columns of a
 *     row ("n:m", e.g. 2:4); 0 and 0 for unstructured sparsity
 * @param nbits joint quantization of the kept weights to nbits per channel (2..8), or 0 for none
 * @param symmetric grid of the joint quantization (ignored without it)
 * @param blockSize columns per block: unstructured masks are chosen per block, error feedback is applied per block
 * @param percdamp Hessian damping as a fraction of its mean diagonal, raised tenfold on Cholesky failure
 */
public record SparseGptConfig(double targetSparsity, int pruneN, int pruneM, int nbits, boolean symmetric,
    int blockSize, double percdamp) implements CompressionConfig {
  public static final int DEFAULT_BLOCK_SIZE = ColumnSweepFields.DEFAULT_BLOCK_SIZE;
  public static final double DEFAULT_PERCDAMP = ColumnSweepFields.DEFAULT_PERCDAMP;

  public SparseGptConfig {
    if (pruneM != 0 || pruneN != 0) {
      if (pruneM < 2 || pruneN < 1 || pruneN >= pruneM) {
        throw new ConfigException("n_m_ratio", "needs 1 <= n < m (n of every m weights pruned, e.g. 2:4), got "
            + pruneN + ":" + pruneM);
      }
      if (Math.abs(targetSparsity - (double) pruneN / pruneM) > 1e-9) {
        throw new ConfigException("target_sparsity", targetSparsity + " conflicts with n_m_ratio " + pruneN + ":"
            + pruneM + " (which prunes " + (double) pruneN / pruneM + "); give only one of them");
      }
      if (blockSize % pruneM != 0) {
        throw new ConfigException("block_size", "must be a multiple of m = " + pruneM + " for n:m pruning, got "
            + blockSize);
      }
    }
    if (!(targetSparsity >= 0 && targetSparsity < 1)) {
      throw new ConfigException("target_sparsity", "must be in [0, 1), got " + targetSparsity);
    }
    if (nbits != 0 && (nbits < 2 || nbits > 8)) {
      throw new ConfigException("nbits", "must be within 2..8, or absent for pruning only, got " + nbits);
    }
    ColumnSweepFields.check(blockSize, percdamp);
  }

  /** Unstructured sparsity with the defaults: no quantization, block 128, percdamp 0.01. */
  public static SparseGptConfig unstructured(double targetSparsity) {
    return new SparseGptConfig(targetSparsity, 0, 0, 0, true, DEFAULT_BLOCK_SIZE, DEFAULT_PERCDAMP);
  }

  /** n:m sparsity (n of every m consecutive weights of a row pruned) with the defaults. */
  public static SparseGptConfig nOfM(int n, int m) {
    return new SparseGptConfig(m == 0 ? 0 : (double) n / m, n, m, 0, true, DEFAULT_BLOCK_SIZE, DEFAULT_PERCDAMP);
  }

  public SparseGptConfig withQuantization(int bits, boolean symmetricGrid) {
    return new SparseGptConfig(targetSparsity, pruneN, pruneM, bits, symmetricGrid, blockSize, percdamp);
  }

  public SparseGptConfig withBlockSize(int value) {
    return new SparseGptConfig(targetSparsity, pruneN, pruneM, nbits, symmetric, value, percdamp);
  }

  public SparseGptConfig withPercdamp(double value) {
    return new SparseGptConfig(targetSparsity, pruneN, pruneM, nbits, symmetric, blockSize, value);
  }

  public boolean structured() {
    return pruneM > 0;
  }

  public boolean quantizes() {
    return nbits > 0;
  }

  @Override
  public String method() {
    return "sparsegpt";
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  /** Absent options are present with a null value: n_m_ratio (as [n, m]) and nbits. */
  @Override
  public Map<String, Object> fields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("target_sparsity", targetSparsity);
    fields.put("n_m_ratio", structured() ? List.of(pruneN, pruneM) : null);
    fields.put("nbits", quantizes() ? nbits : null);
    fields.put("symmetric", symmetric);
    fields.put("block_size", blockSize);
    fields.put("percdamp", percdamp);
    return Collections.unmodifiableMap(fields);
  }
}
