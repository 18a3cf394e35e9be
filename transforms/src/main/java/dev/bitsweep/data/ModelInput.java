package dev.bitsweep.data;

import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

/**
 * A model input fed with data: its name, ONNX element type, shape (-1 for symbolic or unknown dims) and how it is fed
 * (from its data file unless the spec says otherwise).
 */
public record ModelInput(String name, int elementType, long[] shape, InputFeed feed) implements Serializable {

  public ModelInput {
    feed = feed == null ? InputFeed.FROM_FILE : feed;
  }

  public ModelInput(String name, int elementType, long[] shape) {
    this(name, elementType, shape, InputFeed.FROM_FILE);
  }

  public ModelInput withFeed(InputFeed newFeed) {
    return new ModelInput(name, elementType, shape, newFeed);
  }

  public static List<ModelInput> of(Onnx.ModelProto model) {
    Set<String> initializers = new HashSet<>();
    model.getGraph().getInitializerList().forEach(t -> initializers.add(t.getName()));
    List<ModelInput> inputs = new ArrayList<>();
    for (Onnx.ValueInfoProto value : model.getGraph().getInputList()) {
      if (initializers.contains(value.getName())) {
        continue;
      }
      Onnx.TypeProto.Tensor tensor = value.getType().getTensorType();
      long[] shape = tensor.getShape().getDimList().stream()
          .mapToLong(d -> d.hasDimValue() && d.getDimValue() > 0 ? d.getDimValue() : -1).toArray();
      inputs.add(new ModelInput(value.getName(), tensor.getElemType(), shape));
    }
    return inputs;
  }

  /** The .npy dtype data for this input must have. */
  public String npyDtype() {
    String dtype = elementType == DataType.BOOL ? "bool" : NpyArray.numberDtype(elementType);
    if (dtype == null) {
      throw new DataException("model input '" + name + "' has element type " + DataType.name(elementType)
          + ", which bitsweep cannot feed from .npy files");
    }
    return dtype;
  }

  public static String shapeText(long[] shape) {
    return LongStream.of(shape).mapToObj(d -> d < 0 ? "?" : Long.toString(d)).collect(Collectors.joining(",", "[", "]"));
  }
}
