package dev.bitsweep.compress;

/**
 * The compressed form of one weight matrix, in canonical layout (see {@link WeightMatrix}). {@link #decompress()}
 * is the reference decoding: the ONNX encoding of the same weights must decode to exactly these floats in ONNX Runtime.
 */
public sealed interface CompressedWeights extends java.io.Serializable
    permits PalettizedWeights, QuantizedWeights, SparseWeights, DenseWeights {

  int rows();

  int cols();

  /** The dense float weights this form stands for, bit-exactly as an ONNX runtime decodes them. */
  WeightMatrix decompress();

  /** The bytes the compressed payload needs at its nominal bit widths (indices, tables, scales, masks). */
  long payloadBytes();
}
