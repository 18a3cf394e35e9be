package dev.bitsweep.layer;

import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.onnx.GraphPath;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.TensorValues;
import dev.bitsweep.onnx.proto.Onnx;

/** Reads one layer's weights from its model as a canonical weight matrix, refusing NaN and infinite values. */
public final class WeightReader {
  private WeightReader() {}

  public static WeightMatrix read(OnnxModel model, Layer layer) {
    Onnx.TensorProto tensor = tensor(model.proto(), layer);
    float[] values = TensorValues.floats(tensor, model.path(), model.directory());
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw new ModelException("layer " + layer.name() + " of " + model.path() + " contains " + values[i]
            + " at flat index " + i + ": fix the model's weights (or exclude the layer with a null config) and run again");
      }
    }
    return WeightLayout.toMatrix(values, layer.shape(), layer.outputAxis());
  }

  public static Onnx.TensorProto tensor(Onnx.ModelProto model, Layer layer) {
    Onnx.GraphProto graph = GraphPath.resolve(model.getGraph(), layer.graphPath());
    if (layer.storage() == Layer.Storage.INITIALIZER) {
      for (Onnx.TensorProto tensor : graph.getInitializerList()) {
        if (tensor.getName().equals(layer.tensorName())) {
          return tensor;
        }
      }
    } else {
      for (Onnx.NodeProto node : graph.getNodeList()) {
        if (node.getOpType().equals("Constant") && node.getOutputCount() == 1 && node.getOutput(0).equals(layer.tensorName())) {
          for (Onnx.AttributeProto attribute : node.getAttributeList()) {
            if (attribute.getName().equals("value")) {
              return attribute.getT();
            }
          }
        }
      }
    }
    throw new ModelException("layer " + layer.name() + " is not in model " + layer.graphPath()
        + ": the model changed since the layers were listed");
  }
}
