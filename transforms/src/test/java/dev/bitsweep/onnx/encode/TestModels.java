package dev.bitsweep.onnx.encode;

import com.google.protobuf.ByteString;
import dev.bitsweep.compress.Float16;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Small ONNX models built in tests; IR version matching the opset as real exporters write it. */
final class TestModels {
  private TestModels() {}

  static long irVersionFor(int opset) {
    if (opset <= 8) {
      return 3;
    }
    if (opset <= 13) {
      return 7;
    }
    if (opset <= 17) {
      return 8;
    }
    return 10;
  }

  static Onnx.TensorProto tensor(String name, long[] shape, float[] values, int dataType) {
    Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(dataType);
    for (long d : shape) {
      t.addDims(d);
    }
    ByteBuffer raw = ByteBuffer.allocate(values.length * (dataType == DecodeGraph.FLOAT ? 4 : 2)).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      if (dataType == DecodeGraph.FLOAT) {
        raw.putFloat(v);
      } else if (dataType == DecodeGraph.FLOAT16) {
        raw.putShort(Float16.fromFloat(v));
      } else {
        raw.putShort(WeightEncoder.toBfloat16(v));
      }
    }
    return t.setRawData(ByteString.copyFrom(raw.array())).build();
  }

  static Onnx.ValueInfoProto valueInfo(String name, int elemType, long... shape) {
    Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
    for (long d : shape) {
      s.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name)
        .setType(Onnx.TypeProto.newBuilder().setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s)))
        .build();
  }

  static Onnx.NodeProto node(String op, String[] inputs, String... outputs) {
    Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op);
    for (String i : inputs) {
      n.addInput(i);
    }
    for (String o : outputs) {
      n.addOutput(o);
    }
    return n.build();
  }

  static Onnx.ModelProto model(int opset, Onnx.GraphProto graph) {
    return Onnx.ModelProto.newBuilder().setIrVersion(irVersionFor(opset)).setProducerName("bitsweep-test")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(graph).build();
  }

  /** Y = Identity(W), W an initializer (also a graph input at IR 3, as IR 3 requires). */
  static Onnx.ModelProto identity(int opset, String weight, long[] shape, float[] values, int dataType) {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("identity")
        .addInitializer(tensor(weight, shape, values, dataType))
        .addNode(node("Identity", new String[] {weight}, "Y"))
        .addOutput(valueInfo("Y", dataType, shape));
    if (irVersionFor(opset) < 4) {
      g.addInput(valueInfo(weight, dataType, shape));
    }
    return model(opset, g.build());
  }

  /** Y = Identity(W), W the output of a Constant node. */
  static Onnx.ModelProto constant(int opset, String weight, long[] shape, float[] values) {
    Onnx.AttributeProto value = Onnx.AttributeProto.newBuilder().setName("value")
        .setType(Onnx.AttributeProto.AttributeType.TENSOR).setT(tensor("", shape, values, DecodeGraph.FLOAT)).build();
    Onnx.GraphProto g = Onnx.GraphProto.newBuilder().setName("constant")
        .addNode(node("Constant", new String[0], weight).toBuilder().addAttribute(value))
        .addNode(node("Identity", new String[] {weight}, "Y"))
        .addOutput(valueInfo("Y", DecodeGraph.FLOAT, shape))
        .build();
    return model(opset, g);
  }

  /** Y = X @ W, X [batch, shape[0]], W [shape[0], shape[1]] an initializer (output axis 1). */
  static Onnx.ModelProto matMul(int opset, String weight, long[] shape, float[] values, int batch) {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("matmul")
        .addInput(valueInfo("X", DecodeGraph.FLOAT, batch, shape[0]))
        .addInitializer(tensor(weight, shape, values, DecodeGraph.FLOAT))
        .addNode(node("MatMul", new String[] {"X", weight}, "Y"))
        .addOutput(valueInfo("Y", DecodeGraph.FLOAT, batch, shape[1]));
    if (irVersionFor(opset) < 4) {
      g.addInput(valueInfo(weight, DecodeGraph.FLOAT, shape));
    }
    return model(opset, g.build());
  }

  /** Y = If(C) then Identity(W) (W an initializer of the then-branch) else Identity(X). */
  static Onnx.ModelProto ifBranch(int opset, String weight, long[] shape, float[] values) {
    Onnx.GraphProto.Builder thenBranch = Onnx.GraphProto.newBuilder().setName("then");
    if (irVersionFor(opset) < 4) {
      // IR 3 initializers must be graph inputs, which an If branch cannot have: such models use Constant nodes.
      Onnx.AttributeProto value = Onnx.AttributeProto.newBuilder().setName("value")
          .setType(Onnx.AttributeProto.AttributeType.TENSOR).setT(tensor("", shape, values, DecodeGraph.FLOAT)).build();
      thenBranch.addNode(node("Constant", new String[0], weight).toBuilder().addAttribute(value));
    } else {
      thenBranch.addInitializer(tensor(weight, shape, values, DecodeGraph.FLOAT));
    }
    thenBranch.addNode(node("Identity", new String[] {weight}, "then_out"))
        .addOutput(valueInfo("then_out", DecodeGraph.FLOAT, shape));
    Onnx.GraphProto elseBranch = Onnx.GraphProto.newBuilder().setName("else")
        .addNode(node("Identity", new String[] {"X"}, "else_out"))
        .addOutput(valueInfo("else_out", DecodeGraph.FLOAT, shape))
        .build();
    Onnx.NodeProto ifNode = node("If", new String[] {"C"}, "Y").toBuilder()
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("then_branch").setType(Onnx.AttributeProto.AttributeType.GRAPH).setG(thenBranch))
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("else_branch").setType(Onnx.AttributeProto.AttributeType.GRAPH).setG(elseBranch))
        .build();
    Onnx.GraphProto g = Onnx.GraphProto.newBuilder().setName("if")
        .addInput(valueInfo("C", DecodeGraph.BOOL))
        .addInput(valueInfo("X", DecodeGraph.FLOAT, shape))
        .addNode(ifNode)
        .addOutput(valueInfo("Y", DecodeGraph.FLOAT, shape))
        .build();
    return model(opset, g);
  }
}
