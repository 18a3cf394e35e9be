package dev.bitsweep.cli;

import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.layer.LayerInventory;
import dev.bitsweep.layer.SkippedTensor;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.OnnxModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "layers", mixinStandardHelpOptions = true,
    description = "Lists a model's compressible layers and the tensors bitsweep leaves alone, with reasons.")
final class LayersCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL", description = "An ONNX model file.")
  Path model;

  @Option(names = "--weight-threshold", defaultValue = "" + LayerFinder.DEFAULT_WEIGHT_THRESHOLD,
      description = "Compress only tensors with more elements than this (default ${DEFAULT-VALUE}).")
  long weightThreshold;

  @Override
  public Integer call() {
    OnnxModel onnx = OnnxModel.read(model);
    LayerInventory inventory = LayerFinder.find(onnx.proto(), weightThreshold);
    System.out.printf("%s: opset %d, IR %d, %d layers, %d skipped%n", model, onnx.defaultOpset(),
        onnx.proto().getIrVersion(), inventory.layers().size(), inventory.skipped().size());
    for (Layer layer : inventory.layers()) {
      System.out.printf("  layer %-50s %-13s %-18s %-8s out_axis=%d%s%n", layer.name(), layer.opType(), layer.shapeText(),
          DataType.name(layer.dataType()), layer.outputAxis(),
          layer.graphPath().isEmpty() ? "" : " graph=" + layer.graphPath());
    }
    for (SkippedTensor skipped : inventory.skipped()) {
      System.out.printf("  skip  %-50s %-18s %s%n", skipped.name(), skipped.shape(), skipped.reason());
    }
    return ExitCodes.OK;
  }
}
