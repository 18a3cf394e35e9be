package dev.bitsweep.activations;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.TestModels;
import dev.bitsweep.compress.LinearQuantizeConfig;
import dev.bitsweep.compress.PalettizeConfig;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.ModelRunner.Output;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.encode.WeightEncoder;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * W8A8 on the real fixture CNNs: every weight int8 per channel (DequantizeLinear), every activation edge QDQ int8
 * calibrated on calibration/, accuracy on eval/ against labels.npy, in ONNX Runtime with its QDQ fusion (what a user
 * deploys; the optimized graph is checked to run QLinear kernels) and with the fusion disabled.
 */
class W8A8AccuracyTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"fashion-mnist", "digits"})
  void w8a8WithEachCalibratorStaysWithinOnePointOfFp32(String set) throws Exception {
    Path root = TestModels.repositoryRoot().resolve("calibration-data").resolve(set);
    OnnxModel fp32 = OnnxModel.read(root.resolve("model.onnx"));
    List<ModelInput> inputs = ModelInput.of(fp32.proto());
    Dataset calibration = Dataset.open(root.resolve("calibration"), inputs, false);
    Dataset eval = Dataset.open(root.resolve("eval"), inputs, true);
    String output = fp32.proto().getGraph().getOutput(0).getName();
    double fp32Accuracy = accuracy(root.resolve("model.onnx"), inputs, eval, output, SessionSettings.QDQ_DISABLED);

    Onnx.ModelProto w8 = int8Weights(fp32);
    QdqPlan plan = QdqPlan.of(w8);
    Set<String> weights = new HashSet<>();
    LayerFinder.find(fp32.proto(), 0).layers().forEach(l -> weights.add(l.tensorName()));
    assertTrue(plan.tensors().stream().noneMatch(weights::contains), "no weight decode output is quantized");
    Map<String, ActivationHistogram> histograms = ActivationQuantizer.calibrate(fp32, plan, calibration,
        calibration.samples(), 64);
    assertEquals(plan.tensors().size(), histograms.size(), "every planned edge is a float tensor");

    StringBuilder table = new StringBuilder(set + ": fp32 " + fp32Accuracy + "\n");
    for (String calibrator : List.of("minmax", "percentile", "entropy")) {
      ActivationQuantConfig config = ActivationQuantConfig.fromFields(Map.of("calibration", calibrator));
      Path file = dir.resolve(set + "-w8a8-" + calibrator + ".onnx");
      Files.write(file, ActivationQuantizer.quantize(w8, histograms, config).toByteArray());
      double fused = accuracy(file, inputs, eval, output, SessionSettings.QDQ_FUSED);
      double simulated = accuracy(file, inputs, eval, output, SessionSettings.QDQ_DISABLED);
      table.append(String.format("  W8A8 %-10s fused %.4f  qdq-disabled %.4f%n", calibrator, fused, simulated));
      assertTrue(Math.abs(fused - fp32Accuracy) <= 0.01, set + " " + calibrator + " fused " + fused + " vs " + fp32Accuracy);
      assertTrue(Math.abs(simulated - fp32Accuracy) <= 0.01, set + " " + calibrator + " simulated " + simulated);
    }
    System.out.print(table);
  }

  @ParameterizedTest
  @ValueSource(strings = {"fashion-mnist"})
  void ortFusesTheQdqModelIntoInt8Kernels(String set) throws Exception {
    Path root = TestModels.repositoryRoot().resolve("calibration-data").resolve(set);
    OnnxModel fp32 = OnnxModel.read(root.resolve("model.onnx"));
    Dataset calibration = Dataset.open(root.resolve("calibration"), ModelInput.of(fp32.proto()), false);
    Onnx.ModelProto w8 = int8Weights(fp32);
    Map<String, ActivationHistogram> histograms = ActivationQuantizer.calibrate(fp32, QdqPlan.of(w8), calibration,
        64, 64);
    Path file = dir.resolve("w8a8.onnx");
    Files.write(file, ActivationQuantizer.quantize(w8, histograms, ActivationQuantConfig.defaults()).toByteArray());
    List<String> fused = optimizedOps(file, SessionSettings.QDQ_FUSED);
    List<String> simulated = optimizedOps(file, SessionSettings.QDQ_DISABLED);
    assertTrue(fused.stream().anyMatch(op -> op.startsWith("QLinear")), "fused graph: " + fused);
    assertFalse(fused.contains("Conv"), "no float Conv left: " + fused);
    assertTrue(simulated.stream().noneMatch(op -> op.startsWith("QLinear")), "disabled: " + simulated);
  }

  @Test
  void calibrationStatisticsDoNotDependOnBatchingAndTheInputsHistogramIsItsData() {
    Path root = TestModels.repositoryRoot().resolve("calibration-data/digits");
    OnnxModel fp32 = OnnxModel.read(root.resolve("model.onnx"));
    Dataset calibration = Dataset.open(root.resolve("calibration"), ModelInput.of(fp32.proto()), false);
    QdqPlan plan = QdqPlan.of(fp32.proto());
    Map<String, ActivationHistogram> whole = ActivationQuantizer.calibrate(fp32, plan, calibration, 256, 256);
    Map<String, ActivationHistogram> pieces = ActivationQuantizer.calibrate(fp32, plan, calibration, 256, 37);
    assertEquals(whole, pieces);
    assertEquals(ActivationHistogram.of("input", calibration.inputs().get("input").floats(0, 256)), whole.get("input"));
  }

  @Test
  void foldingWeightDequantizeReshapeIsExact() throws Exception {
    Path root = TestModels.repositoryRoot().resolve("calibration-data/fashion-mnist");
    OnnxModel fp32 = OnnxModel.read(root.resolve("model.onnx"));
    Onnx.ModelProto w8 = int8Weights(fp32);
    Onnx.ModelProto folded = WeightDequantizeFolding.fold(w8);
    assertTrue(folded.getGraph().getNodeCount() <= w8.getGraph().getNodeCount(), "folding never adds nodes");
    Set<String> dequantized = new HashSet<>();
    folded.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("DequantizeLinear"))
        .forEach(n -> dequantized.addAll(n.getOutputList()));
    assertFalse(dequantized.isEmpty(), "int8 weights are DequantizeLinear-encoded");
    assertTrue(folded.getGraph().getNodeList().stream().noneMatch(n -> n.getOpType().equals("Reshape")
        && dequantized.contains(n.getInput(0))), "no weight DequantizeLinear feeds a Reshape after folding");
    Path a = dir.resolve("w8.onnx");
    Path b = dir.resolve("folded.onnx");
    Files.write(a, w8.toByteArray());
    Files.write(b, folded.toByteArray());
    List<ModelInput> inputs = ModelInput.of(fp32.proto());
    Dataset eval = Dataset.open(root.resolve("eval"), inputs, true);
    try (ModelRunner x = ModelRunner.open(a, inputs, Set.of("logits"), SessionSettings.QDQ_DISABLED, 1);
         ModelRunner y = ModelRunner.open(b, inputs, Set.of("logits"), SessionSettings.QDQ_DISABLED, 1)) {
      assertArrayEquals(x.runAll(eval, 0, 200).get("logits").values(), y.runAll(eval, 0, 200).get("logits").values());
    }
  }

  @Test
  void uint8AsymmetricAndPalettizedWeightsCombineWithActivationQuantization() throws Exception {
    Path root = TestModels.repositoryRoot().resolve("calibration-data/fashion-mnist");
    OnnxModel fp32 = OnnxModel.read(root.resolve("model.onnx"));
    List<ModelInput> inputs = ModelInput.of(fp32.proto());
    Dataset calibration = Dataset.open(root.resolve("calibration"), inputs, false);
    Dataset eval = Dataset.open(root.resolve("eval"), inputs, true);
    double fp32Accuracy = accuracy(root.resolve("model.onnx"), inputs, eval, "logits", SessionSettings.QDQ_DISABLED);
    Map<String, ActivationHistogram> histograms = ActivationQuantizer.calibrate(fp32, QdqPlan.of(fp32.proto()),
        calibration, calibration.samples(), 64);

    Path uint8 = dir.resolve("w8a8-uint8.onnx");
    Files.write(uint8, ActivationQuantizer.quantize(int8Weights(fp32), histograms, ActivationQuantConfig.fromFields(
        Map.of("dtype", "uint8", "symmetric", false))).toByteArray());
    double uint8Fused = accuracy(uint8, inputs, eval, "logits", SessionSettings.QDQ_FUSED);

    Onnx.ModelProto.Builder palettized = fp32.proto().toBuilder();
    WeightEncoder encoder = WeightEncoder.forModel(fp32.proto());
    PalettizeConfig kmeans6 = PalettizeConfig.builder().mode(PalettizeConfig.Mode.KMEANS).nbits(6).build();
    Set<String> decoded = new HashSet<>();
    for (Layer layer : LayerFinder.find(fp32.proto(), LayerFinder.DEFAULT_WEIGHT_THRESHOLD).layers()) {
      encoder.encode(palettized.getGraphBuilder(), layer.tensorName(), layer.shape(), layer.outputAxis(),
          Methods.ALL.compress(kmeans6, WeightReader.read(fp32, layer)).weights());
      decoded.add(layer.tensorName());
    }
    QdqPlan plan = QdqPlan.of(palettized.build());
    Set<String> constant = QdqPlan.constantTensors(palettized.getGraph());
    assertTrue(plan.tensors().stream().noneMatch(constant::contains), "no decode-subgraph tensor is quantized");
    assertTrue(constant.containsAll(decoded), "decoded weights are recognized as constant: " + decoded);
    Path pal = dir.resolve("pal6-a8.onnx");
    Files.write(pal, ActivationQuantizer.quantize(palettized.build(), histograms, ActivationQuantConfig.defaults())
        .toByteArray());
    double palFused = accuracy(pal, inputs, eval, "logits", SessionSettings.QDQ_FUSED);
    double palDisabled = accuracy(pal, inputs, eval, "logits", SessionSettings.QDQ_DISABLED);
    System.out.printf("fashion-mnist: W8A8 uint8 asymmetric minmax fused %.4f; k-means 6-bit + A8 int8 fused %.4f, "
        + "disabled %.4f (fp32 %.4f)%n", uint8Fused, palFused, palDisabled, fp32Accuracy);
    assertTrue(Math.abs(uint8Fused - fp32Accuracy) <= 0.01, "uint8 " + uint8Fused);
    assertTrue(Math.abs(palFused - fp32Accuracy) <= 0.015, "palettized + A8 " + palFused);
  }

  private List<String> optimizedOps(Path model, SessionSettings settings) throws Exception {
    Path optimized = dir.resolve("optimized-" + settings + ".onnx");
    OrtSession.SessionOptions options = settings.options();
    options.setOptimizedModelFilePath(optimized.toString());
    OrtEnvironment.getEnvironment().createSession(model.toString(), options).close();
    return Onnx.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph().getNodeList().stream()
        .map(Onnx.NodeProto::getOpType).toList();
  }

  /** Every weight (no size threshold) int8 symmetric per channel, as DequantizeLinear. */
  static Onnx.ModelProto int8Weights(OnnxModel model) {
    Onnx.ModelProto.Builder out = model.proto().toBuilder();
    WeightEncoder encoder = WeightEncoder.forModel(model.proto());
    LinearQuantizeConfig int8 = new LinearQuantizeConfig(LinearQuantizeConfig.Mode.LINEAR_SYMMETRIC, QuantDtype.INT8,
        LinearQuantizeConfig.Granularity.PER_CHANNEL, null);
    for (Layer layer : LayerFinder.find(model.proto(), 0).layers()) {
      encoder.encode(out.getGraphBuilder(), layer.tensorName(), layer.shape(), layer.outputAxis(),
          Methods.ALL.compress(int8, WeightReader.read(model, layer)).weights());
    }
    return out.build();
  }

  static double accuracy(Path model, List<ModelInput> inputs, Dataset eval, String output, SessionSettings settings) {
    long[] labels = eval.labels().orElseThrow().longs(0, eval.samples());
    try (ModelRunner runner = ModelRunner.open(model, inputs, Set.of(output), settings, 1)) {
      Output out = runner.runAll(eval, 0, eval.samples()).get(output);
      int classes = (int) out.shape()[1];
      int correct = 0;
      for (int s = 0; s < eval.samples(); s++) {
        int best = 0;
        for (int c = 1; c < classes; c++) {
          if (out.values()[s * classes + c] > out.values()[s * classes + best]) {
            best = c;
          }
        }
        correct += best == labels[s] ? 1 : 0;
      }
      return (double) correct / eval.samples();
    }
  }
}
