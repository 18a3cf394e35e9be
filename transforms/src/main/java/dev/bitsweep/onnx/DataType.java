package dev.bitsweep.onnx;

/** ONNX TensorProto.DataType codes bitsweep needs by name. */
public final class DataType {
  public static final int FLOAT = 1;
  public static final int UINT8 = 2;
  public static final int INT8 = 3;
  public static final int INT32 = 6;
  public static final int INT64 = 7;
  public static final int BOOL = 9;
  public static final int FLOAT16 = 10;
  public static final int DOUBLE = 11;
  public static final int BFLOAT16 = 16;
  public static final int UINT4 = 21;
  public static final int INT4 = 22;

  private static final String[] NAMES = {
    "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16",
    "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ",
    "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1"
  };

  private DataType() {}

  public static String name(int type) {
    return type >= 0 && type < NAMES.length ? NAMES[type] : "TYPE_" + type;
  }

  public static boolean isCompressibleFloat(int type) {
    return type == FLOAT || type == FLOAT16 || type == BFLOAT16;
  }

  public static int byteWidth(int type) {
    return switch (type) {
      case FLOAT, INT32 -> 4;
      case FLOAT16, BFLOAT16 -> 2;
      case INT64, DOUBLE -> 8;
      case UINT8, INT8 -> 1;
      default -> throw new IllegalArgumentException("no fixed byte width for " + name(type));
    };
  }
}
