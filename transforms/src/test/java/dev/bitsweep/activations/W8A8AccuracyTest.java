package dev.bitsweep.activations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.TestModels;
import dev.bitsweep.compress.Compressors;
import dev.bitsweep.compress.LinearQuantizeConfig;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner.Output;
import dev.bitsweep.eval.metrics.OutputRunner;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.encode.WeightEncoder;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
          Compressors.compress(int8, WeightReader.read(model, layer)));
    }
    return out.build();
  }

  static double accuracy(Path model, List<ModelInput> inputs, Dataset eval, String output, SessionSettings settings) {
    long[] labels = eval.labels().orElseThrow().longs(0, eval.samples());
    try (OutputRunner runner = OutputRunner.open(model, inputs, Set.of(output), settings)) {
      Output out = runner.run(eval, 0, eval.samples()).get(output);
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
