package dev.bitsweep.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.TestModels;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import org.junit.jupiter.api.Test;

class WeightReaderTest {

  /** The layer of {@code tensor}, whatever its size (threshold 0). */
  private static Layer layer(OnnxModel model, String tensor) {
    return LayerFinder.find(model.proto(), 0).layers().stream().filter(l -> l.tensorName().equals(tensor))
        .findFirst().orElseThrow();
  }

  @Test
  void readsExternalDataAndMovesTheOutputAxisFirst() {
    OnnxModel model = OnnxModel.read(TestModels.model("external_data_opset13.onnx"));
    Layer fc1 = layer(model, "fc1.weight");
    WeightMatrix matrix = WeightReader.read(model, fc1);
    long[] shape = fc1.shape();
    assertEquals(shape[1], matrix.rows());
    assertEquals(shape[0], matrix.cols());
    float[] tensor = WeightLayout.toTensor(matrix, shape, fc1.outputAxis());
    // row r, col c of the matrix is element [c][r] of the [in, out] tensor
    assertEquals(tensor[(int) (3 * shape[1] + 5)], matrix.get(5, 3));
  }

  @Test
  void constantNodeAndInitializerOfTheSameWeightsReadTheSame() {
    OnnxModel constants = OnnxModel.read(TestModels.model("constant_node_weights_opset13.onnx"));
    Layer fc1 = layer(constants, "fc1.weight");
    assertEquals(Layer.Storage.CONSTANT_NODE, fc1.storage());
    WeightMatrix matrix = WeightReader.read(constants, fc1);
    assertEquals(8192, matrix.size());
    assertTrue(Float.isFinite(matrix.values()[0]));
  }

  @Test
  void readsWeightsInsideSubgraphs() {
    OnnxModel model = OnnxModel.read(TestModels.model("if_subgraph_opset13.onnx"));
    Layer then = layer(model, "then.weight");
    assertTrue(then.graphPath().contains("then_branch"), then.graphPath());
    assertEquals(then.params(), WeightReader.read(model, then).size());
  }

  @Test
  void fp16WeightsAreWidenedExactly() {
    OnnxModel model = OnnxModel.read(TestModels.model("fp16_weights_opset17.onnx"));
    Layer fc1 = layer(model, "fc1.weight");
    assertEquals(dev.bitsweep.onnx.DataType.FLOAT16, fc1.dataType());
    for (float v : WeightReader.read(model, fc1).values()) {
      assertEquals(v, dev.bitsweep.compress.Float16.round(v));
    }
  }

  @Test
  void nanWeightsAreRefusedNamingTheLayer() {
    OnnxModel model = OnnxModel.read(TestModels.model("nan_weights_opset13.onnx"));
    ModelException e = assertThrows(ModelException.class, () -> {
      for (Layer layer : LayerFinder.find(model.proto(), 2048).layers()) {
        WeightReader.read(model, layer);
      }
    });
    assertTrue(e.getMessage().matches("layer \\S+ of .* contains (NaN|Infinity|-Infinity) at flat index \\d+: .*"), e.getMessage());
  }

  @Test
  void layoutRoundTripsForEveryAxis() {
    long[] shape = {2, 3, 4};
    float[] tensor = new float[24];
    for (int i = 0; i < 24; i++) {
      tensor[i] = i;
    }
    for (int axis = 0; axis < 3; axis++) {
      WeightMatrix matrix = WeightLayout.toMatrix(tensor.clone(), shape, axis);
      assertEquals(shape[axis], matrix.rows());
      assertArrayEquals(tensor, WeightLayout.toTensor(matrix, shape, axis));
    }
    // axis 1: row r holds elements [o][r][i] for o, i in order
    WeightMatrix middle = WeightLayout.toMatrix(tensor.clone(), shape, 1);
    assertArrayEquals(new float[] {4, 5, 6, 7, 16, 17, 18, 19}, java.util.Arrays.copyOfRange(middle.values(), 8, 16));
  }
}
