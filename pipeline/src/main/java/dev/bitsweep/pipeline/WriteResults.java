package dev.bitsweep.pipeline;

import dev.bitsweep.results.ResultSchemas;
import dev.bitsweep.spec.SweepConfig;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Joins configs, packages and evaluation summaries per config and writes the {@code runs} and {@code layers}
 * Parquet tables into the staging area (one file each; the launcher publishes them when the whole job succeeded).
 *
 * <p>Input, keyed by config id: the configs under {@link #CONFIGS}, every config's package under {@link #PACKAGES},
 * and the evaluation summaries (of the packages that could be evaluated) under {@link #SUMMARIES}.
 */
public final class WriteResults extends PTransform<KeyedPCollectionTuple<String>, PDone> {
  public static final TupleTag<SweepConfig> CONFIGS = new TupleTag<>("configs");
  public static final TupleTag<PackagedModel> PACKAGES = new TupleTag<>("packages");
  public static final TupleTag<EvalSummary> SUMMARIES = new TupleTag<>("summaries");

  private final SweepPlan plan;
  private final List<String> layerOrder;
  private final int evalThreads;

  private WriteResults(SweepPlan plan, List<String> layerOrder, int evalThreads) {
    this.plan = Objects.requireNonNull(plan, "plan");
    this.layerOrder = List.copyOf(layerOrder);
    if (evalThreads < 1) {
      throw new IllegalArgumentException("evaluation threads must be >= 1, got " + evalThreads);
    }
    this.evalThreads = evalThreads;
  }

  public static WriteResults of(SweepPlan plan) {
    return new WriteResults(plan, List.of(), 1);
  }

  /** The intra-op threads the evaluation sessions ran with, as the runs table's {@code runtime_settings} records. */
  public WriteResults withEvalThreads(int threads) {
    return new WriteResults(plan, layerOrder, threads);
  }

  /** The layers' names in graph order: the layers table's {@code layer_index} (null for a layer not listed). */
  public WriteResults withLayerOrder(List<String> layerNames) {
    if (new HashSet<>(layerNames).size() != layerNames.size()) {
      throw new IllegalArgumentException("the layer order names a layer twice: " + layerNames);
    }
    return new WriteResults(plan, layerNames, evalThreads);
  }

  public static Path stagedTable(String stagingDir, String table) {
    return Path.of(stagingDir, "tables", table);
  }

  @Override
  public PDone expand(KeyedPCollectionTuple<String> input) {
    Inputs.require(input, "WriteResults", CONFIGS, PACKAGES, SUMMARIES);
    PCollection<KV<String, CoGbkResult>> joined = input.apply("JoinPerConfig", CoGroupByKey.create());
    PCollection<GenericRecord> runs = joined
        .apply("ToRunRows", ParDo.of(new ToRunRowFn(plan, evalThreads)))
        .setCoder(AvroCoder.of(ResultSchemas.RUNS));
    PCollection<GenericRecord> layers = joined
        .apply("ToLayerRows", ParDo.of(new ToLayerRowsFn(layerOrder)))
        .setCoder(AvroCoder.of(ResultSchemas.LAYERS));
    write(runs, "runs", ResultSchemas.RUNS);
    write(layers, "layers", ResultSchemas.LAYERS);
    return PDone.in(input.getPipeline());
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
    private final int evalThreads;

    ToRunRowFn(SweepPlan plan, int evalThreads) {
      this.plan = plan;
      this.evalThreads = evalThreads;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> joined, OutputReceiver<GenericRecord> out) {
      SweepConfig config = joined.getValue().getOnly(CONFIGS);
      PackagedModel packaged = joined.getValue().getOnly(PACKAGES);
      EvalSummary summary = joined.getValue().getOnly(SUMMARIES, null);
      out.output(ResultRows.run(plan, config, packaged, summary, evalThreads));
    }
  }

  static final class ToLayerRowsFn extends DoFn<KV<String, CoGbkResult>, GenericRecord> {
    private final List<String> layerOrder;

    ToLayerRowsFn(List<String> layerOrder) {
      this.layerOrder = layerOrder;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> joined, OutputReceiver<GenericRecord> out) {
      for (LayerResult layer : joined.getValue().getOnly(PACKAGES).layers()) {
        int index = layerOrder.indexOf(layer.layer());
        out.output(ResultRows.layer(layer, index < 0 ? null : index));
      }
    }
  }
}
