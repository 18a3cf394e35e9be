package dev.bitsweep.pipeline;

import dev.bitsweep.data.ModelInput;
import dev.bitsweep.layer.SkippedTensor;
import dev.bitsweep.spec.SweepSpec;
import dev.bitsweep.packaging.Packager;
import java.io.Serializable;
import java.util.List;

/**
 * The constant facts of one sweep that every worker needs: where the model, data and staging area are, and what
 * the model looks like. Numerous things (layers, configs, batches) travel as PCollections instead.
 */
public record SweepPlan(
    String sweepId,
    String modelPath,
    String modelSha256,
    long modelBytes,  // the model's size on disk: the .onnx file plus its external data files
    int modelOpset,
    List<ModelInput> modelInputs,
    String evalDataPath,
    String evalDataSha256,
    int evalSamples,
    int batchSize,
    String calibrationDataSha256,
    SweepSpec.Task task,
    String stagingDir,
    List<SkippedTensor> skipped,
    String bitsweepVersion,
    long packageExternalDataBytes)
    implements Serializable {

  public SweepPlan {
    modelInputs = List.copyOf(modelInputs);
    skipped = List.copyOf(skipped);
  }

  /** A plan with the default external-data threshold for packages. */
  public SweepPlan(String sweepId, String modelPath, String modelSha256, long modelBytes, int modelOpset,
      List<ModelInput> modelInputs, String evalDataPath, String evalDataSha256, int evalSamples, int batchSize,
      String calibrationDataSha256, SweepSpec.Task task, String stagingDir, List<SkippedTensor> skipped,
      String bitsweepVersion) {
    this(sweepId, modelPath, modelSha256, modelBytes, modelOpset, modelInputs, evalDataPath, evalDataSha256,
        evalSamples, batchSize, calibrationDataSha256, task, stagingDir, skipped, bitsweepVersion,
        Packager.DEFAULT_EXTERNAL_DATA_BYTES);
  }

  public int batchCount() {
    return (evalSamples + batchSize - 1) / batchSize;
  }

  public int batchStart(int batch) {
    return batch * batchSize;
  }

  public int batchEnd(int batch) {
    return Math.min(evalSamples, (batch + 1) * batchSize);
  }
}
