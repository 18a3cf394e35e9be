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
    List<SweepPlanner.LayerSkip> configSkips,
    List<Integer> sequenceStarts,
    long packageExternalDataBytes)
    implements Serializable {

  public SweepPlan {
    modelInputs = List.copyOf(modelInputs);
    skipped = List.copyOf(skipped);
    configSkips = List.copyOf(configSkips);
    sequenceStarts = List.copyOf(sequenceStarts);
  }

  /** The tensors a config leaves uncompressed: the model's skipped tensors, then the layers this config skips. */
  public List<SkippedTensor> skippedBy(String configId) {
    List<SkippedTensor> all = new java.util.ArrayList<>(skipped);
    configSkips.stream().filter(s -> s.configId().equals(configId)).forEach(s -> all.add(s.tensor()));
    return all;
  }

  /** A plan without state inputs (batches of batch_size samples) in which every config compresses every layer it
   * matches; packages at the default external-data threshold. */
  public SweepPlan(String sweepId, String modelPath, String modelSha256, long modelBytes, int modelOpset,
      List<ModelInput> modelInputs, String evalDataPath, String evalDataSha256, int evalSamples, int batchSize,
      String calibrationDataSha256, SweepSpec.Task task, String stagingDir, List<SkippedTensor> skipped,
      String bitsweepVersion) {
    this(sweepId, modelPath, modelSha256, modelBytes, modelOpset, modelInputs, evalDataPath, evalDataSha256,
        evalSamples, batchSize, calibrationDataSha256, task, stagingDir, skipped, bitsweepVersion, List.of(), List.of());
  }

  /** A plan in which every config compresses every layer it matches; packages at the default external-data threshold. */
  public SweepPlan(String sweepId, String modelPath, String modelSha256, long modelBytes, int modelOpset,
      List<ModelInput> modelInputs, String evalDataPath, String evalDataSha256, int evalSamples, int batchSize,
      String calibrationDataSha256, SweepSpec.Task task, String stagingDir, List<SkippedTensor> skipped,
      String bitsweepVersion, List<Integer> sequenceStarts) {
    this(sweepId, modelPath, modelSha256, modelBytes, modelOpset, modelInputs, evalDataPath, evalDataSha256,
        evalSamples, batchSize, calibrationDataSha256, task, stagingDir, skipped, bitsweepVersion, List.of(), sequenceStarts);
  }

  /** A plan whose packages use the default external-data threshold. */
  public SweepPlan(String sweepId, String modelPath, String modelSha256, long modelBytes, int modelOpset,
      List<ModelInput> modelInputs, String evalDataPath, String evalDataSha256, int evalSamples, int batchSize,
      String calibrationDataSha256, SweepSpec.Task task, String stagingDir, List<SkippedTensor> skipped,
      String bitsweepVersion, List<SweepPlanner.LayerSkip> configSkips, List<Integer> sequenceStarts) {
    this(sweepId, modelPath, modelSha256, modelBytes, modelOpset, modelInputs, evalDataPath, evalDataSha256,
        evalSamples, batchSize, calibrationDataSha256, task, stagingDir, skipped, bitsweepVersion, configSkips, sequenceStarts, Packager.DEFAULT_EXTERNAL_DATA_BYTES);
  }

  /** Batches of batch_size samples or, with state inputs (sequenceStarts given), of batch_size whole sequences. */
  public int batchCount() {
    return SequenceBatches.count(evalSamples, batchSize, sequenceStarts);
  }

  public int batchStart(int batch) {
    return SequenceBatches.start(batch, batchSize, sequenceStarts);
  }

  public int batchEnd(int batch) {
    return SequenceBatches.end(batch, evalSamples, batchSize, sequenceStarts);
  }
}
