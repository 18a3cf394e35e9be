package dev.bitsweep.data;

import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads ONNX's test-data layout: {@code test_data_set_N/input_K.pb} TensorProtos, one per model input, matched by the
 * tensor's name or, when it has none, by position K. Sets are stacked along the first axis in N order.
 */
final class OnnxTestDataLayout {
  private OnnxTestDataLayout() {}

  static boolean isUsedIn(Path directory) {
    return !sets(directory).isEmpty();
  }

  static Map<String, NpyArray> read(Path directory, List<ModelInput> inputs) {
    for (Path file : Dataset.npyFiles(directory)) {
      if (!Dataset.isLabelFile(file.getFileName().toString())) {
        throw new DataException("data file " + file + " mixes the two data layouts: " + directory + " holds "
            + "test_data_set_* directories, so its only .npy files may be labels; move the file elsewhere");
      }
    }
    Map<String, List<NpyArray>> parts = new LinkedHashMap<>();
    inputs.forEach(i -> parts.put(i.name(), new ArrayList<>()));
    for (Path set : sets(directory)) {
      List<Path> files;
      try (Stream<Path> list = Files.list(set)) {
        files = list.filter(f -> f.getFileName().toString().matches("input_\\d+\\.pb"))
            .sorted(Comparator.comparingInt(OnnxTestDataLayout::number)).toList();
      } catch (IOException e) {
        throw new DataException("cannot list " + set + ": " + e.getMessage());
      }
      for (Path file : files) {
        Onnx.TensorProto tensor;
        try {
          tensor = Onnx.TensorProto.parseFrom(Files.readAllBytes(file));
        } catch (IOException e) {
          throw new DataException("data file " + file + " is not an ONNX TensorProto: " + e.getMessage());
        }
        String name = tensor.getName();
        if (name.isEmpty()) {
          int position = number(file);
          if (position >= inputs.size()) {
            throw new DataException("data file " + file + " is input " + position + " but the model has only "
                + inputs.size() + " inputs");
          }
          name = inputs.get(position).name();
        }
        List<NpyArray> list = parts.get(name);
        if (list == null) {
          throw new DataException("data file " + file + " holds tensor '" + name + "' but the model's inputs are "
              + inputs.stream().map(ModelInput::name).toList());
        }
        list.add(toArray(file, tensor));
      }
    }
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    parts.forEach((name, list) -> {
      if (list.isEmpty()) {
        throw new DataException("no data for model input '" + name + "' in the test_data_set_* directories of " + directory);
      }
      arrays.put(name, NpyArray.concat(directory.resolve("test_data_set_*").resolve(name), list));
    });
    return arrays;
  }

  private static List<Path> sets(Path directory) {
    try (Stream<Path> list = Files.list(directory)) {
      return list.filter(p -> Files.isDirectory(p) && p.getFileName().toString().matches("test_data_set_\\d+"))
          .sorted(Comparator.comparingInt(OnnxTestDataLayout::number)).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static int number(Path path) {
    String name = path.getFileName().toString().replaceAll("\\D+", "");
    return Integer.parseInt(name);
  }

  private static NpyArray toArray(Path file, Onnx.TensorProto tensor) {
    long[] shape = tensor.getDimsList().stream().mapToLong(Long::longValue).toArray();
    String dtype = switch (tensor.getDataType()) {
      case DataType.FLOAT -> "float32";
      case DataType.FLOAT16 -> "float16";
      case DataType.DOUBLE -> "float64";
      case DataType.INT64 -> "int64";
      case DataType.INT32 -> "int32";
      case DataType.UINT8 -> "uint8";
      default -> throw new DataException("data file " + file + " is " + DataType.name(tensor.getDataType())
          + "; supported: FLOAT, FLOAT16, DOUBLE, INT64, INT32, UINT8");
    };
    if (tensor.hasRawData()) {
      return NpyArray.of(file, dtype, shape, tensor.getRawData().asReadOnlyByteBuffer());
    }
    int count = Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b));
    ByteBuffer data = ByteBuffer.allocate(count * NpyArray.width(dtype)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      switch (dtype) {
        case "float32" -> data.putFloat(tensor.getFloatData(i));
        case "float16" -> data.putShort((short) tensor.getInt32Data(i));
        case "float64" -> data.putDouble(tensor.getDoubleData(i));
        case "int64" -> data.putLong(tensor.getInt64Data(i));
        case "int32" -> data.putInt(tensor.getInt32Data(i));
        default -> data.put((byte) tensor.getInt32Data(i));
      }
    }
    data.flip();
    return NpyArray.of(file, dtype, shape, data);
  }
}
