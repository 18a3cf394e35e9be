package dev.bitsweep.eval;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.InputFeed;
import dev.bitsweep.data.InputLayout;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.onnx.ModelException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * ONNX Runtime tensors for one run: samples [from, to) of each file-fed input placed on its batch axis, constant
 * values in their declared shape, and carried states. The caller closes the tensors.
 */
final class InputFeeder {
  private InputFeeder() {}

  /** @param states the current state of each state input (float32, {@link InputLayout#stateShape}), or null */
  static Map<String, OnnxTensor> feeds(java.util.List<ModelInput> inputs, Dataset data, int from, int to,
      Map<String, float[]> states) {
    OrtEnvironment environment = OrtRuntime.environment();
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      for (ModelInput input : inputs) {
        feeds.put(input.name(), switch (input.feed().kind()) {
          case FILE -> fileTensor(environment, input, data, from, to);
          case VALUE -> valueTensor(environment, input);
          case STATE -> {
            if (states == null) {
              throw new ModelException("model input '" + input.name() + "' is a state carried through sequences; "
                  + "this run feeds independent batches, which cannot carry it");
            }
            yield OnnxTensor.createTensor(environment, FloatBuffer.wrap(states.get(input.name())),
                InputLayout.stateShape(input));
          }
        });
      }
      return feeds;
    } catch (OrtException e) {
      feeds.values().forEach(OnnxTensor::close);
      throw new ModelException("ONNX Runtime cannot hold samples " + from + ".." + to + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      feeds.values().forEach(OnnxTensor::close);
      throw e;
    }
  }

  private static OnnxTensor fileTensor(OrtEnvironment environment, ModelInput input, Dataset data, int from, int to)
      throws OrtException {
    NpyArray array = data.inputs().get(input.name());
    int axis = data.batchAxis(input.name());
    long[] fileShape = array.shape();
    int batch = to - from;
    long[] shape = new long[fileShape.length];
    long outer = 1;
    long inner = 1;
    for (int i = 0, rest = 1; i < shape.length; i++) {
      if (i == axis) {
        shape[i] = batch;
      } else {
        shape[i] = fileShape[rest++];
        if (i < axis) {
          outer *= shape[i];
        } else {
          inner *= shape[i];
        }
      }
    }
    int[] order = placement(batch, (int) outer, (int) inner, axis);
    return switch (array.dtype()) {
      case "float32" -> OnnxTensor.createTensor(environment, FloatBuffer.wrap(permute(array.floats(from, to), order)), shape);
      case "float16" -> {
        short[] bits = array.halfBits(from, to);
        short[] placed = bits;
        if (order != null) {
          placed = new short[bits.length];
          for (int i = 0; i < order.length; i++) {
            placed[i] = bits[order[i]];
          }
        }
        yield OnnxTensor.createTensor(environment, ShortBuffer.wrap(placed), shape, OnnxJavaType.FLOAT16);
      }
      case "int64" -> OnnxTensor.createTensor(environment, LongBuffer.wrap(permute(array.longs(from, to), order)), shape);
      case "int32" -> {
        long[] longs = permute(array.longs(from, to), order);
        int[] ints = new int[longs.length];
        for (int i = 0; i < ints.length; i++) {
          ints[i] = (int) longs[i];
        }
        yield OnnxTensor.createTensor(environment, IntBuffer.wrap(ints), shape);
      }
      default -> throw new ModelException("input '" + input.name() + "' with data type " + array.dtype() + " is not supported");
    };
  }

  /**
   * For each element of the fed tensor ([outer..., batch, inner...]), its index in the file's samples
   * ([batch, outer..., inner...]); null when the batch is already the first axis.
   */
  static int[] placement(int batch, int outer, int inner, int axis) {
    if (axis == 0 || outer == 1) {
      return null;
    }
    int[] order = new int[batch * outer * inner];
    int k = 0;
    for (int o = 0; o < outer; o++) {
      for (int s = 0; s < batch; s++) {
        for (int i = 0; i < inner; i++) {
          order[k++] = (s * outer + o) * inner + i;
        }
      }
    }
    return order;
  }

  private static float[] permute(float[] values, int[] order) {
    if (order == null) {
      return values;
    }
    float[] placed = new float[values.length];
    for (int i = 0; i < order.length; i++) {
      placed[i] = values[order[i]];
    }
    return placed;
  }

  private static long[] permute(long[] values, int[] order) {
    if (order == null) {
      return values;
    }
    long[] placed = new long[values.length];
    for (int i = 0; i < order.length; i++) {
      placed[i] = values[order[i]];
    }
    return placed;
  }

  private static OnnxTensor valueTensor(OrtEnvironment environment, ModelInput input) throws OrtException {
    long[] shape = input.shape();
    int count = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    double value = input.feed().value();
    return switch (input.npyDtype()) {
      case "float32" -> {
        float[] values = new float[count];
        Arrays.fill(values, (float) value);
        yield OnnxTensor.createTensor(environment, FloatBuffer.wrap(values), shape);
      }
      case "float64" -> {
        double[] values = new double[count];
        Arrays.fill(values, value);
        yield OnnxTensor.createTensor(environment, java.nio.DoubleBuffer.wrap(values), shape);
      }
      case "int64" -> {
        long[] values = new long[count];
        Arrays.fill(values, (long) value);
        yield OnnxTensor.createTensor(environment, LongBuffer.wrap(values), shape);
      }
      case "int32" -> {
        int[] values = new int[count];
        Arrays.fill(values, (int) value);
        yield OnnxTensor.createTensor(environment, IntBuffer.wrap(values), shape);
      }
      case "uint8", "bool" -> {
        byte[] values = new byte[count];
        Arrays.fill(values, (byte) value);
        yield OnnxTensor.createTensor(environment, ByteBuffer.wrap(values), shape,
            input.npyDtype().equals("bool") ? OnnxJavaType.BOOL : OnnxJavaType.UINT8);
      }
      default -> throw new ModelException("input '" + input.name() + "' of type " + input.npyDtype()
          + " cannot take a value");
    };
  }

  static boolean stateful(java.util.List<ModelInput> inputs) {
    return inputs.stream().anyMatch(i -> i.feed().kind() == InputFeed.Kind.STATE);
  }
}
