package dev.bitsweep.compress;

/** Integer code types of linear quantization, with their ONNX TensorProto.DataType numbers. */
public enum QuantDtype {
  INT8(8, true, 3),
  UINT8(8, false, 2),
  INT4(4, true, 22),
  UINT4(4, false, 21);

  private final int bits;
  private final boolean signed;
  private final int onnxType;

  QuantDtype(int bits, boolean signed, int onnxType) {
    this.bits = bits;
    this.signed = signed;
    this.onnxType = onnxType;
  }

  public int bits() {
    return bits;
  }

  public boolean signed() {
    return signed;
  }

  public int onnxType() {
    return onnxType;
  }

  public int min() {
    return signed ? -(1 << (bits - 1)) : 0;
  }

  public int max() {
    return signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  }
}
