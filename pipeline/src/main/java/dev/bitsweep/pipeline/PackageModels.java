package dev.bitsweep.pipeline;

import dev.bitsweep.spec.SweepConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Groups compressed layers by config and writes each config's packaged model (ONNX + manifest) into the staging
 * area. Every config yields exactly one {@link PackagedModel}: a config whose layers failed, or whose package could
 * not be written, yields a failed one that says why.
 *
 * <p>Input: the configs under {@link #CONFIGS} and the compressed layers under {@link #LAYERS}, both keyed by config
 * id.
 */
public final class PackageModels
    extends PTransform<KeyedPCollectionTuple<String>, PCollection<KV<String, PackagedModel>>> {
  public static final TupleTag<SweepConfig> CONFIGS = new TupleTag<>("configs");
  public static final TupleTag<CompressedLayer> LAYERS = new TupleTag<>("layers");

  private final SweepPlan plan;
  private final CalibrationPlan activations;

  private PackageModels(SweepPlan plan, CalibrationPlan activations) {
    this.plan = Objects.requireNonNull(plan, "plan");
    this.activations = activations;
  }

  public static PackageModels of(SweepPlan plan) {
    return new PackageModels(plan, null);
  }

  /** Quantizes the activations of configs that ask for it with the histograms cached by {@code calibration}. */
  public PackageModels withActivationStatistics(CalibrationPlan calibration) {
    return new PackageModels(plan, Objects.requireNonNull(calibration, "calibration"));
  }

  @Override
  public PCollection<KV<String, PackagedModel>> expand(KeyedPCollectionTuple<String> input) {
    Inputs.require(input, "PackageModels", CONFIGS, LAYERS);
    return input
        .apply("GroupByConfig", CoGroupByKey.create())
        .apply("Package", ParDo.of(new PackageFn(plan, activations)));
  }

  static final class PackageFn extends DoFn<KV<String, CoGbkResult>, KV<String, PackagedModel>> {
    private final SweepPlan plan;
    private final CalibrationPlan activations;

    PackageFn(SweepPlan plan, CalibrationPlan activations) {
      this.plan = plan;
      this.activations = activations;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> group, OutputReceiver<KV<String, PackagedModel>> out) {
      SweepConfig config = group.getValue().getOnly(CONFIGS);
      List<CompressedLayer> layers = new ArrayList<>();
      group.getValue().getAll(LAYERS).forEach(layers::add);
      layers.sort(Comparator.comparing(l -> l.layer().name()));
      PackagedModel packaged = PackageWriter.write(plan, config, layers, activations);
      Progress.mark(plan.stagingDir(), "package", config.configId());
      out.output(KV.of(config.configId(), packaged));
    }
  }
}
