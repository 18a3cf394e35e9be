package dev.bitsweep.onnx;

import dev.bitsweep.compress.Float16;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/** Reads a float tensor's values (FLOAT, FLOAT16, BFLOAT16), wherever the ONNX file keeps them. */
public final class TensorValues {
  private TensorValues() {}

  /** {@code modelFile} names the model in messages; external data is read relative to {@code modelDirectory}. */
  public static float[] floats(Onnx.TensorProto tensor, Path modelFile, Path modelDirectory) {
    long count = 1;
    for (long d : tensor.getDimsList()) {
      count *= d;
    }
    if (count > Integer.MAX_VALUE - 8) {
      throw new ModelException("tensor " + tensor.getName() + " has " + count + " elements; at most 2^31 are supported");
    }
    int n = (int) count;
    int type = tensor.getDataType();
    if (!DataType.isCompressibleFloat(type)) {
      throw new ModelException("tensor " + tensor.getName() + " is " + DataType.name(type) + ", not a float tensor");
    }
    ByteBuffer raw = null;
    if (ExternalDataReference.isExternal(tensor)) {
      raw = ByteBuffer.wrap(ExternalDataReference.of(tensor, modelFile, modelDirectory)
          .read((long) n * DataType.byteWidth(type)));
    } else if (tensor.hasRawData()) {
      raw = tensor.getRawData().asReadOnlyByteBuffer();
    }
    float[] values = new float[n];
    if (raw != null) {
      raw.order(ByteOrder.LITTLE_ENDIAN);
      if (raw.remaining() != (long) n * DataType.byteWidth(type)) {
        throw new ModelException("tensor " + tensor.getName() + " has " + raw.remaining() + " data bytes but its shape needs "
            + (long) n * DataType.byteWidth(type) + "; the model file is corrupt");
      }
      for (int i = 0; i < n; i++) {
        values[i] = switch (type) {
          case DataType.FLOAT -> raw.getFloat();
          case DataType.FLOAT16 -> Float16.toFloat(raw.getShort());
          default -> Float16.bfloat16ToFloat(raw.getShort());
        };
      }
      return values;
    }
    if (type == DataType.FLOAT) {
      requireCount(tensor, tensor.getFloatDataCount(), n);
      for (int i = 0; i < n; i++) {
        values[i] = tensor.getFloatData(i);
      }
    } else {
      requireCount(tensor, tensor.getInt32DataCount(), n);
      for (int i = 0; i < n; i++) {
        short bits = (short) tensor.getInt32Data(i);
        values[i] = type == DataType.FLOAT16 ? Float16.toFloat(bits) : Float16.bfloat16ToFloat(bits);
      }
    }
    return values;
  }

  private static void requireCount(Onnx.TensorProto tensor, int actual, int expected) {
    if (actual != expected) {
      throw new ModelException("tensor " + tensor.getName() + " stores " + actual + " values but its shape needs "
          + expected + "; the model file is corrupt");
    }
  }
}
