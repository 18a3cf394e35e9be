package dev.bitsweep.pipeline;

import dev.bitsweep.data.ModelInput;
import dev.bitsweep.layer.SkippedTensor;
import dev.bitsweep.spec.SweepSpec;
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
    long modelBytes,
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
    String bitsweepVersion)
    implements Serializable {

  public SweepPlan {
    modelInputs = List.copyOf(modelInputs);
    skipped = List.copyOf(skipped);
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
