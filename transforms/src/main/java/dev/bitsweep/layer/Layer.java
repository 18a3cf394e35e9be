package dev.bitsweep.layer;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * A compressible weight of a model: small and serializable, so it can travel through a pipeline while workers read
 * its values from the model file themselves.
 *
 * @param name the weight tensor's name (qualified with its graph path when a subgraph reuses a name)
 * @param tensorName the tensor's name inside its graph
 * @param opType the op that consumes it as a weight (MatMul, Gemm, Conv, ConvTranspose, LSTM, GRU, RNN, Gather)
 * @param shape the tensor's shape
 * @param dataType the ONNX element type (FLOAT, FLOAT16, BFLOAT16)
 * @param outputAxis the axis of output channels; the canonical weight matrix has one row per index of this axis
 * @param graphPath where the tensor lives: "" for the main graph, else steps "nodeIndex:attribute[:graphIndex]" joined by "/"
 * @param storage how it is stored: an initializer or a Constant node's value
 */
public record Layer(
    String name,
    String tensorName,
    String opType,
    long[] shape,
    int dataType,
    int outputAxis,
    String graphPath,
    Storage storage)
    implements Serializable {

  public enum Storage { INITIALIZER, CONSTANT_NODE }

  public Layer {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(tensorName, "tensorName");
    Objects.requireNonNull(opType, "opType");
    Objects.requireNonNull(graphPath, "graphPath");
    Objects.requireNonNull(storage, "storage");
    shape = shape.clone();
    if (outputAxis < 0 || outputAxis >= shape.length) {
      throw new IllegalArgumentException("output axis " + outputAxis + " outside the shape " + Arrays.toString(shape) + " of " + name);
    }
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public long params() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** Output channels: the rows of the canonical weight matrix. */
  public int rows() {
    return Math.toIntExact(shape[outputAxis]);
  }

  /** Everything else, flattened: the columns of the canonical weight matrix. */
  public int cols() {
    return Math.toIntExact(params() / rows());
  }

  public String shapeText() {
    return Arrays.toString(shape).replace(" ", "");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Layer other
        && name.equals(other.name)
        && tensorName.equals(other.tensorName)
        && opType.equals(other.opType)
        && Arrays.equals(shape, other.shape)
        && dataType == other.dataType
        && outputAxis == other.outputAxis
        && graphPath.equals(other.graphPath)
        && storage == other.storage;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, tensorName, opType, Arrays.hashCode(shape), dataType, outputAxis, graphPath, storage);
  }

  @Override
  public String toString() {
    return name + " (" + opType + " " + shapeText() + ")";
  }
}
