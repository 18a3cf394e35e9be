package dev.bitsweep.results;

import dev.bitsweep.pipeline.EvalSummary;
import dev.bitsweep.pipeline.LayerResult;
import dev.bitsweep.pipeline.PackagedModel;
import dev.bitsweep.pipeline.SweepPlan;
import dev.bitsweep.spec.SweepConfig;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * Joins packages, evaluation summaries and configs per config and writes the {@code runs} and {@code layers}
 * Parquet tables into the staging area (one file each; the launcher publishes them when the whole job succeeded).
 */
public final class WriteResults extends PTransform<PBegin, PDone> {
  private final SweepPlan plan;
  private final PCollection<SweepConfig> configs;
  private final PCollection<KV<String, PackagedModel>> packages;
  private final PCollection<KV<String, EvalSummary>> summaries;
  private final List<String> layerOrder;

  private WriteResults(SweepPlan plan, PCollection<SweepConfig> configs, PCollection<KV<String, PackagedModel>> packages,
      PCollection<KV<String, EvalSummary>> summaries, List<String> layerOrder) {
    this.plan = plan;
    this.configs = configs;
    this.packages = packages;
    this.summaries = summaries;
    this.layerOrder = List.copyOf(layerOrder);
  }

  public static WriteResults of(SweepPlan plan, PCollection<SweepConfig> configs,
      PCollection<KV<String, PackagedModel>> packages, PCollection<KV<String, EvalSummary>> summaries) {
    return new WriteResults(plan, configs, packages, summaries, List.of());
  }

  /** The layers' names in graph order: the layers table's {@code layer_index} (null for a layer not listed). */
  public WriteResults withLayerOrder(List<String> layerNames) {
    if (new HashSet<>(layerNames).size() != layerNames.size()) {
      throw new IllegalArgumentException("the layer order names a layer twice: " + layerNames);
    }
    return new WriteResults(plan, configs, packages, summaries, layerNames);
  }

  public static Path stagedTable(String stagingDir, String table) {
    return Path.of(stagingDir, "tables", table);
  }

  @Override
  public PDone expand(PBegin begin) {
    TupleTag<SweepConfig> configTag = new TupleTag<>("configs");
    TupleTag<PackagedModel> packageTag = new TupleTag<>("packages");
    TupleTag<EvalSummary> summaryTag = new TupleTag<>("summaries");
    PCollection<KV<String, SweepConfig>> keyedConfigs = configs.apply("KeyConfigs",
        WithKeys.of(SweepConfig::configId).withKeyType(TypeDescriptor.of(String.class)));
    PCollection<GenericRecord> runs = KeyedPCollectionTuple.of(configTag, keyedConfigs)
        .and(packageTag, packages)
        .and(summaryTag, summaries)
        .apply("JoinPerConfig", CoGroupByKey.create())
        .apply("ToRunRows", ParDo.of(new ToRunRowFn(plan, configTag, packageTag, summaryTag)))
        .setCoder(AvroCoder.of(ResultSchemas.RUNS));
    PCollection<GenericRecord> layers = packages
        .apply("ToLayerRows", ParDo.of(new ToLayerRowsFn(layerOrder)))
        .setCoder(AvroCoder.of(ResultSchemas.LAYERS));
    write(runs, "runs", ResultSchemas.RUNS);
    write(layers, "layers", ResultSchemas.LAYERS);
    return PDone.in(begin.getPipeline());
  }

  private void write(PCollection<GenericRecord> rows, String table, Schema schema) {
    rows.apply("Write" + Character.toUpperCase(table.charAt(0)) + table.substring(1),
        FileIO.<GenericRecord>write()
            .via(ParquetIO.sink(schema))
            .to(stagedTable(plan.stagingDir(), table).toString())
            .withNumShards(1)
            .withNaming(FileIO.Write.defaultNaming("part", ".parquet")));
  }

  static final class ToRunRowFn extends DoFn<KV<String, CoGbkResult>, GenericRecord> {
    private final SweepPlan plan;
    private final TupleTag<SweepConfig> configTag;
    private final TupleTag<PackagedModel> packageTag;
    private final TupleTag<EvalSummary> summaryTag;

    ToRunRowFn(SweepPlan plan, TupleTag<SweepConfig> configTag, TupleTag<PackagedModel> packageTag,
        TupleTag<EvalSummary> summaryTag) {
      this.plan = plan;
      this.configTag = configTag;
      this.packageTag = packageTag;
      this.summaryTag = summaryTag;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> joined, OutputReceiver<GenericRecord> out) {
      SweepConfig config = joined.getValue().getOnly(configTag);
      PackagedModel packaged = joined.getValue().getOnly(packageTag);
      EvalSummary summary = joined.getValue().getOnly(summaryTag, null);
      out.output(ResultRows.run(plan, config, packaged, summary));
    }
  }

  static final class ToLayerRowsFn extends DoFn<KV<String, PackagedModel>, GenericRecord> {
    private final List<String> layerOrder;

    ToLayerRowsFn(List<String> layerOrder) {
      this.layerOrder = layerOrder;
    }

    @ProcessElement
    public void process(@Element KV<String, PackagedModel> packaged, OutputReceiver<GenericRecord> out) {
      for (LayerResult layer : packaged.getValue().layers()) {
        int index = layerOrder.indexOf(layer.layer());
        out.output(ResultRows.layer(layer, index < 0 ? null : index));
      }
    }
  }
}
