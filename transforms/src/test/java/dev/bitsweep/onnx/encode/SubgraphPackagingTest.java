package dev.bitsweep.onnx.encode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.bitsweep.TestModels;
import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.LinearQuantizeConfig;
import dev.bitsweep.compress.LinearQuantizer;
import dev.bitsweep.compress.WeightError;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.packaging.LayerWeights;
import dev.bitsweep.packaging.Packager;
import dev.bitsweep.packaging.Provenance;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import dev.bitsweep.compress.PalettizedWeights.TableType;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.onnx.GraphPath;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Issue 15 section 1: a model with weights in the main graph, in an If branch, in a Loop body inside that branch, in
 * both branches of an If nested in it (MatMul and LSTM), and a main-graph weight used only inside a branch, packaged
 * the way the Packager does it (each layer's graph resolved by its path, then encoded), in either order of layers.
 * ONNX Runtime must decode every weight to exactly bitsweep's decompression, and run the package to the outputs of
 * the original model with those decompressed weights put in as plain initializers, on every combination of branches.
 */
class SubgraphPackagingTest {
  private static final String MODEL = "subgraphs/nested_subgraphs_opset13.onnx";

  @Test
  void findsWeightsAtEveryLevel() {
    Map<String, String> paths = new LinkedHashMap<>();
    layers().forEach(l -> paths.put(l.name(), l.graphPath()));
    assertEquals(Map.of(
        "main.conv.weight", "",
        "loop.conv.weight", "2:then_branch/0:body",
        "inner.then.weight", "2:then_branch/3:then_branch",
        "lstm.W", "2:then_branch/3:else_branch",
        "lstm.R", "2:then_branch/3:else_branch",
        "main.shared.weight", "",
        "main.head.weight", ""), paths);
  }

  @Test
  void packagesWeightsAtBothLevelsInLayerOrder() throws Exception {
    checkPackage(layers());
  }

  @Test
  void packagesWeightsAtBothLevelsInnermostLast() throws Exception {
    List<Layer> reversed = new ArrayList<>(layers());
    Collections.reverse(reversed);
    checkPackage(reversed);
  }

  @Test
  void aPathThatNamesAnAttributeTheNodeLacksIsAClearError() {
    Onnx.ModelProto model = OnnxModel.read(TestModels.model(MODEL)).proto();
    Executable wrong = () -> GraphPath.resolve(model.getGraph(), model.getGraph().toBuilder(), "2:body");
    ModelException e = org.junit.jupiter.api.Assertions.assertThrows(ModelException.class, wrong);
    assertEquals("graph path '2:body' does not match the model: node outer_if (If) has no attribute body",
        e.getMessage());
  }

  private static List<Layer> layers() {
    return LayerFinder.find(OnnxModel.read(TestModels.model(MODEL)).proto(), 0).layers();
  }

  /** Int4 per-channel for 2-D weights and 6-bit palettes for the others: both decode with many inserted nodes. */
  private static CompressedWeights form(Layer layer, long seed) {
    if (layer.shape().length == 2) {
      return Forms.quantized(layer.rows(), layer.cols(), QuantDtype.INT4, Granularity.PER_CHANNEL, 0, false, seed);
    }
    return Forms.palettized(layer.rows(), layer.cols(), 6, layer.rows(), 1, TableType.FLOAT32, false, seed);
  }

  private void checkPackage(List<Layer> order) throws Exception {
    Onnx.ModelProto original = OnnxModel.read(TestModels.model(MODEL)).proto();
    Onnx.ModelProto.Builder packaged = original.toBuilder();
    Onnx.ModelProto.Builder reference = original.toBuilder();
    WeightEncoder encoder = WeightEncoder.forModel(packaged);
    Map<String, float[]> expected = new LinkedHashMap<>();
    for (Layer layer : order) {
      CompressedWeights weights = form(layer, layer.name().hashCode());
      // What Packager does, layer after layer, on the model it is editing.
      Onnx.GraphProto.Builder graph = GraphPath.resolve(original.getGraph(), packaged.getGraphBuilder(),
          layer.graphPath());
      encoder.encode(graph, layer.tensorName(), layer.shape(), layer.outputAxis(), weights);
      float[] dense = WeightEncoderTest.expectedDense(weights, new CanonicalLayout(layer.shape(), layer.outputAxis()),
          DecodeGraph.FLOAT);
      expected.put(layer.tensorName(), dense);
      replaceInitializer(GraphPath.resolve(original.getGraph(), reference.getGraphBuilder(), layer.graphPath()),
          layer.tensorName(), dense);
    }
    assertTrue(packaged.getGraph().getNodeCount() > original.getGraph().getNodeCount() + 10,
        "decode nodes went into the main graph, ahead of the If");
    verify(packaged.build().toByteArray(), expected, reference.build().toByteArray());
  }

  /** The library's Packager (as a sweep calls it) on the same model, every layer int8 per channel. */
  @Test
  void thePackagerWritesItToo(@TempDir Path dir) throws Exception {
    OnnxModel model = OnnxModel.read(TestModels.model(MODEL));
    Onnx.ModelProto.Builder reference = model.proto().toBuilder();
    List<LayerWeights> layers = new ArrayList<>();
    Map<String, float[]> expected = new LinkedHashMap<>();
    for (Layer layer : layers()) {
      WeightMatrix original = WeightReader.read(model, layer);
      CompressedWeights weights = LinearQuantizer.quantize(LinearQuantizeConfig.builder()
          .mode(LinearQuantizeConfig.Mode.LINEAR_SYMMETRIC).dtype(QuantDtype.INT8)
          .granularity(LinearQuantizeConfig.Granularity.PER_CHANNEL).build(), original);
      layers.add(new LayerWeights(layer, weights, WeightError.snrDb(original, weights.decompress())));
      float[] dense = new CanonicalLayout(layer.shape(), layer.outputAxis()).fromCanonical(weights.decompress().values());
      expected.put(layer.tensorName(), dense);
      replaceInitializer(GraphPath.resolve(model.proto().getGraph(), reference.getGraphBuilder(), layer.graphPath()),
          layer.tensorName(), dense);
    }
    Provenance provenance = new Provenance("test-version", "sweep-15", "int8", model.path().toString(),
        model.sha256(), model.fileBytes(), "eval-sha", null, Map.of("global", Map.of("method", "linear_quantize")),
        List.of());
    Packager.Written written = Packager.write(model, layers, provenance, dir.resolve("int8"));
    byte[] bytes = Files.readAllBytes(written.modelFile());
    assertEquals(bytes.length, written.fileBytes());
    verify(bytes, expected, reference.build().toByteArray());
  }

  private static void verify(byte[] bytes, Map<String, float[]> expected, byte[] reference) throws Exception {
    for (Map.Entry<String, float[]> e : expected.entrySet()) {
      WeightEncoderTest.assertBitsEqual(e.getValue(), OrtDecode.decodeWeight(bytes, e.getKey()),
          "decoded " + e.getKey());
    }
    float[] x = new float[2 * 3 * 6 * 6];
    Random random = new Random(15);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    float[] previous = null;
    for (boolean[] branches : new boolean[][] {{true, true}, {true, false}, {false, false}}) {
      float[] actual = run(bytes, x, branches);
      float[] wanted = run(reference, x, branches);
      assertEquals(20, actual.length);
      for (int i = 0; i < wanted.length; i++) {
        assertEquals(wanted[i], actual[i], 1e-5f * (1 + Math.abs(wanted[i])), "output " + i + " with branches "
            + branches[0] + "/" + branches[1]);
      }
      if (previous != null) {
        assertNotEquals(previous[0], actual[0], "each branch combination computes something else");
      }
      previous = actual;
    }
  }

  private static void replaceInitializer(Onnx.GraphProto.Builder graph, String name, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    for (Onnx.TensorProto.Builder t : graph.getInitializerBuilderList()) {
      if (t.getName().equals(name)) {
        t.clearFloatData().setRawData(ByteString.copyFrom(raw.array()));
        return;
      }
    }
    throw new AssertionError("no initializer " + name);
  }

  private static float[] run(byte[] model, float[] x, boolean[] branches) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = OrtDecode.sessionOptions();
        OrtSession session = env.createSession(model, options);
        OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {2, 3, 6, 6});
        OnnxTensor outer = OnnxTensor.createTensor(env, branches[0]);
        OnnxTensor inner = OnnxTensor.createTensor(env, branches[1]);
        OnnxTensor steps = OnnxTensor.createTensor(env, 2L);
        OrtSession.Result result = session.run(Map.of("x", input, "cond_outer", outer, "cond_inner", inner,
            "steps", steps))) {
      return OrtDecode.toFloats((OnnxTensor) result.get("out").orElseThrow());
    }
  }
}
