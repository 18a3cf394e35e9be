package dev.bitsweep.report;

import dev.bitsweep.spec.SpecException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.LocalInputFile;

/**
 * One sweep's rows of the {@code runs} and {@code layers} tables, read back from an output directory's Parquet
 * files (the partition {@code sweep_id=<id>}) as column name to value maps; runs sorted by config id.
 */
public record SweepResults(String sweepId, List<Map<String, Object>> runs, List<Map<String, Object>> layers) {
  private static final String PARTITION = "sweep_id=";

  public SweepResults {
    runs = List.copyOf(runs);
    layers = List.copyOf(layers);
  }

  /** The sweeps whose runs an output directory holds, sorted. */
  public static List<String> sweepIds(Path out) {
    Path runs = out.resolve("runs");
    if (!Files.isDirectory(runs)) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(runs)) {
      return dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString())
          .filter(name -> name.startsWith(PARTITION)).map(name -> name.substring(PARTITION.length())).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + runs, e);
    }
  }

  /** Reads a sweep's rows; an id that is not in {@code out} is bad input, and the message lists the ids there. */
  public static SweepResults read(Path out, String sweepId) {
    List<String> present = sweepIds(out);
    if (!present.contains(sweepId)) {
      throw new SpecException(present.isEmpty()
          ? out + " holds no sweep results (no runs/sweep_id=*/ directory); give the --out directory of a sweep"
          : "no sweep '" + sweepId + "' in " + out + "; the sweeps there are: " + String.join(", ", present));
    }
    List<Map<String, Object>> runs = rows(out.resolve("runs").resolve(PARTITION + sweepId));
    if (runs.isEmpty()) {
      throw new SpecException(out.resolve("runs").resolve(PARTITION + sweepId) + " holds no rows");
    }
    runs.sort(Comparator.comparing(r -> (String) r.get("config_id")));
    Path layers = out.resolve("layers").resolve(PARTITION + sweepId);
    return new SweepResults(sweepId, runs, Files.isDirectory(layers) ? rows(layers) : List.of());
  }

  /** The rows of a table's partition {@code sweep_id=<id>} (a search's plans/ or frontier/), none when absent. */
  static List<Map<String, Object>> partitionRows(Path table, String id) {
    Path partition = table.resolve(PARTITION + id);
    return Files.isDirectory(partition) ? rows(partition) : new ArrayList<>();
  }

  private static List<Map<String, Object>> rows(Path partition) {
    List<Map<String, Object>> rows = new ArrayList<>();
    try (Stream<Path> files = Files.list(partition)) {
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".parquet")).sorted().toList()) {
        try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(new LocalInputFile(file)).build()) {
          for (GenericRecord record; (record = reader.read()) != null; ) {
            Map<String, Object> row = new LinkedHashMap<>();
            for (Schema.Field field : record.getSchema().getFields()) {
              row.put(field.name(), plain(record.get(field.name())));
            }
            rows.add(row);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the Parquet files in " + partition, e);
    }
    return rows;
  }

  /** Avro's values as plain Java ones: text as String, numbers and booleans as they are. */
  private static Object plain(Object value) {
    if (value instanceof CharSequence text) {
      return text.toString();
    }
    if (value instanceof ByteBuffer) {
      return null; // no binary columns in schema version 1; not shown if one appears
    }
    return value;
  }

  /** The value of a numeric column, or null when absent or null. */
  public static Double number(Map<String, Object> row, String column) {
    return row.get(column) instanceof Number n ? n.doubleValue() : null;
  }

  public static String text(Map<String, Object> row, String column) {
    Object value = row.get(column);
    return value == null ? null : value.toString();
  }
}
