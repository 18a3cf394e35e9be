package dev.bitsweep.calibrate;

import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.compress.FieldReader;
import dev.bitsweep.compress.NmRatio;
import dev.bitsweep.compress.ScaleDtype;
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
 * @param nmRatio prune n of every m consecutive columns of a row (e.g. 2:4), or null for unstructured sparsity
 * @param nbits joint quantization of the kept weights to nbits per channel (2..8), or 0 for none
 * @param symmetric grid of the joint quantization (ignored without it)
 * @param lazyBatchSize columns per lazy batch: unstructured masks are chosen per batch, error feedback is applied
 *     per batch
 * @param percdamp Hessian damping as a fraction of its mean diagonal, raised tenfold on Cholesky failure
 * @param scaleDtype float32 (default) or float16 scales of the joint quantization, as {@code gptq}'s
 */
public record SparseGptConfig(double targetSparsity, NmRatio nmRatio, int nbits, boolean symmetric,
    int lazyBatchSize, double percdamp, ScaleDtype scaleDtype) implements ColumnSweepConfig {
  public static final String METHOD = "sparsegpt";
  public static final int DEFAULT_LAZY_BATCH_SIZE = ColumnSweepFields.DEFAULT_LAZY_BATCH_SIZE;
  public static final double DEFAULT_PERCDAMP = ColumnSweepFields.DEFAULT_PERCDAMP;
  static final List<String> FIELD_NAMES = List.of("method", "target_sparsity", NmRatio.FIELD, "nbits", "symmetric",
      ColumnSweepFields.LAZY_BATCH_SIZE, "percdamp", GridFields.SCALE_DTYPE);

  public SparseGptConfig {
    scaleDtype = scaleDtype == null ? ScaleDtype.FLOAT32 : scaleDtype;
    if (nmRatio != null) {
      if (Math.abs(targetSparsity - nmRatio.sparsity()) > 1e-9) {
        throw new ConfigException("target_sparsity", targetSparsity + " conflicts with n_m_ratio " + nmRatio
            + " (which prunes " + nmRatio.sparsity() + "); give only one of them");
      }
      if (lazyBatchSize % nmRatio.m() != 0) {
        throw new ConfigException(ColumnSweepFields.LAZY_BATCH_SIZE, "must be a multiple of m = " + nmRatio.m()
            + " for n:m pruning, got " + lazyBatchSize);
      }
    }
    if (!(targetSparsity >= 0 && targetSparsity < 1)) {
      throw new ConfigException("target_sparsity", "must be in [0, 1), got " + targetSparsity);
    }
    if (nbits != 0 && (nbits < 2 || nbits > 8)) {
      throw new ConfigException("nbits", "must be within 2..8, or absent for pruning only, got " + nbits);
    }
    ColumnSweepFields.check(lazyBatchSize, percdamp);
  }

  /** Float32 scales. */
  public SparseGptConfig(double targetSparsity, NmRatio nmRatio, int nbits, boolean symmetric, int lazyBatchSize,
      double percdamp) {
    this(targetSparsity, nmRatio, nbits, symmetric, lazyBatchSize, percdamp, ScaleDtype.FLOAT32);
  }

  /** Unstructured sparsity with the defaults: no quantization, lazy batch 128, percdamp 0.01. */
  public static SparseGptConfig unstructured(double targetSparsity) {
    return new SparseGptConfig(targetSparsity, null, 0, true, DEFAULT_LAZY_BATCH_SIZE, DEFAULT_PERCDAMP);
  }

  /** n:m sparsity (n of every m consecutive weights of a row pruned) with the defaults. */
  public static SparseGptConfig nOfM(int n, int m) {
    NmRatio nm = new NmRatio(n, m);
    return new SparseGptConfig(nm.sparsity(), nm, 0, true, DEFAULT_LAZY_BATCH_SIZE, DEFAULT_PERCDAMP);
  }

  public SparseGptConfig withQuantization(int bits, boolean symmetricGrid) {
    return new SparseGptConfig(targetSparsity, nmRatio, bits, symmetricGrid, lazyBatchSize, percdamp, scaleDtype);
  }

  public SparseGptConfig withScaleDtype(ScaleDtype value) {
    return new SparseGptConfig(targetSparsity, nmRatio, nbits, symmetric, lazyBatchSize, percdamp, value);
  }

  public SparseGptConfig withLazyBatchSize(int value) {
    return new SparseGptConfig(targetSparsity, nmRatio, nbits, symmetric, value, percdamp, scaleDtype);
  }

  public SparseGptConfig withPercdamp(double value) {
    return new SparseGptConfig(targetSparsity, nmRatio, nbits, symmetric, lazyBatchSize, value, scaleDtype);
  }

  /**
   * The inverse of {@link #fields()}: {@code target_sparsity} or {@code n_m_ratio} is required (the sparsity of
   * n:m is n/m); other absent fields take the defaults.
   */
  public static SparseGptConfig fromFields(Map<String, Object> fields) {
    FieldReader reader = new FieldReader(METHOD, fields, FIELD_NAMES, ColumnSweepFields.RENAMED);
    NmRatio nm = NmRatio.of(reader.integers(NmRatio.FIELD));
    Double sparsity = reader.number("target_sparsity");
    if (sparsity == null && nm != null) {
      sparsity = nm.sparsity();
    }
    if (sparsity == null) {
      throw new ConfigException("target_sparsity", "is required for method sparsegpt (or give n_m_ratio [n, m])");
    }
    return new SparseGptConfig(sparsity, nm, FieldReader.orElse(reader.integer("nbits"), 0),
        GridFields.symmetric(reader), ColumnSweepFields.lazyBatchSize(reader), ColumnSweepFields.percdamp(reader),
        GridFields.scaleDtype(reader));
  }

  public boolean structured() {
    return nmRatio != null;
  }

  public boolean quantizes() {
    return nbits > 0;
  }

  @Override
  public String method() {
    return METHOD;
  }

  /** Absent options are present with a null value: n_m_ratio (as [n, m]) and nbits. */
  @Override
  public Map<String, Object> fields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("method", METHOD);
    fields.put("target_sparsity", targetSparsity);
    fields.put(NmRatio.FIELD, structured() ? nmRatio.asList() : null);
    fields.put("nbits", quantizes() ? nbits : null);
    fields.put("symmetric", symmetric);
    ColumnSweepFields.put(fields, lazyBatchSize, percdamp);
    GridFields.putScaleDtype(fields, scaleDtype);
    return Collections.unmodifiableMap(fields);
  }
}
