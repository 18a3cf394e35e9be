package dev.bitsweep.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.LocalInputFile;

/**
 * The headline of one config's run, read back from the published runs table (perplexity and token agreement only
 * for task language_model).
 */
public record RunSummary(
    String configId,
    String status,
    String error,
    Double bitsPerWeight,
    Double sizeRatio,
    Double accuracy,
    Double baselineAccuracy,
    Double agreement,
    Double outputSnrDb,
    Double embeddingCosine,
    Double perplexity,
    Double baselinePerplexity,
    Double tokenAgreement) {

  public static List<RunSummary> read(Path out, String sweepId) {
    return readPartition(out.resolve("runs").resolve("sweep_id=" + sweepId));
  }

  /** The rows of one runs partition (a directory of Parquet files), sorted by config id. */
  public static List<RunSummary> readPartition(Path partition) {
    List<RunSummary> rows = new ArrayList<>();
    try (Stream<Path> files = Files.list(partition)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".parquet")).sorted().toList()) {
        try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(new LocalInputFile(file)).build()) {
          for (GenericRecord r; (r = reader.read()) != null; ) {
            rows.add(new RunSummary(text(r.get("config_id")), text(r.get("status")), text(r.get("error")),
                number(r.get("bits_per_weight")), number(r.get("size_ratio")), number(r.get("accuracy")),
                number(r.get("baseline_accuracy")), number(r.get("agreement")), number(r.get("output_snr_db")),
                number(r.get("embedding_cosine")), number(r.get("perplexity")),
                number(r.get("baseline_perplexity")), number(r.get("token_agreement"))));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the runs table in " + partition, e);
    }
    rows.sort(Comparator.comparing(RunSummary::configId));
    return rows;
  }

  private static String text(Object value) {
    return value == null ? null : value.toString();
  }

  private static Double number(Object value) {
    return value == null ? null : ((Number) value).doubleValue();
  }
}
