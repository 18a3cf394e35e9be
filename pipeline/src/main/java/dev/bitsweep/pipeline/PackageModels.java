package dev.bitsweep.pipeline;

import dev.bitsweep.spec.SweepConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * Groups compressed layers by config and writes each config's packaged model (ONNX + manifest) into the staging
 * area. Every config yields exactly one {@link PackagedModel}, failed or not.
 */
public final class PackageModels
    extends PTransform<PCollection<KV<String, CompressedLayer>>, PCollection<KV<String, PackagedModel>>> {
  private final SweepPlan plan;
  private final PCollection<SweepConfig> configs;

  private PackageModels(SweepPlan plan, PCollection<SweepConfig> configs) {
    this.plan = plan;
    this.configs = configs;
  }

  public static PackageModels of(SweepPlan plan, PCollection<SweepConfig> configs) {
    return new PackageModels(plan, configs);
  }

  @Override
  public PCollection<KV<String, PackagedModel>> expand(PCollection<KV<String, CompressedLayer>> compressed) {
    TupleTag<SweepConfig> configTag = new TupleTag<>("configs");
    TupleTag<CompressedLayer> layerTag = new TupleTag<>("layers");
    PCollection<KV<String, SweepConfig>> keyedConfigs = configs.apply("KeyConfigs",
        WithKeys.of(SweepConfig::configId).withKeyType(TypeDescriptor.of(String.class)));
    return KeyedPCollectionTuple.of(configTag, keyedConfigs)
        .and(layerTag, compressed)
        .apply("GroupByConfig", CoGroupByKey.create())
        .apply("Package", ParDo.of(new PackageFn(plan, configTag, layerTag)));
  }

  static final class PackageFn extends DoFn<KV<String, CoGbkResult>, KV<String, PackagedModel>> {
    private final SweepPlan plan;
    private final TupleTag<SweepConfig> configTag;
    private final TupleTag<CompressedLayer> layerTag;

    PackageFn(SweepPlan plan, TupleTag<SweepConfig> configTag, TupleTag<CompressedLayer> layerTag) {
      this.plan = plan;
      this.configTag = configTag;
      this.layerTag = layerTag;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> group, OutputReceiver<KV<String, PackagedModel>> out) {
      SweepConfig config = group.getValue().getOnly(configTag);
      List<CompressedLayer> layers = new ArrayList<>();
      group.getValue().getAll(layerTag).forEach(layers::add);
      layers.sort(Comparator.comparing(l -> l.layer().name()));
      PackagedModel packaged = Packager.write(plan, config, layers);
      Progress.mark(plan.stagingDir(), "package", config.configId());
      out.output(KV.of(config.configId(), packaged));
    }
  }
}
