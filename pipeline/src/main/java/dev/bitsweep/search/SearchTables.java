package dev.bitsweep.search;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.LocalOutputFile;

/**
 * Reads a sweep's published tables and writes a search's own (small, on the driver): each partition
 * {@code <out>/<table>/sweep_id=<id>/part-0.parquet} is written beside it first and moved into place, replacing what
 * an earlier run of the same search left.
 */
final class SearchTables {
  private SearchTables() {}

  static List<GenericRecord> read(Path out, String table, String sweepId) {
    Path partition = out.resolve(table).resolve("sweep_id=" + sweepId);
    List<GenericRecord> rows = new ArrayList<>();
    try (Stream<Path> files = Files.list(partition)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".parquet")).sorted().toList()) {
        try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(new LocalInputFile(file)).build()) {
          for (GenericRecord r; (r = reader.read()) != null; ) {
            rows.add(r);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the " + table + " table in " + partition, e);
    }
    return rows;
  }

  static void write(Path out, String table, String sweepId, Schema schema, List<GenericRecord> rows) {
    Path partition = out.resolve(table).resolve("sweep_id=" + sweepId);
    Path staged = out.resolve(".staging").resolve(table + "-" + sweepId + "-" + System.nanoTime());
    try {
      Files.createDirectories(staged);
      try (ParquetWriter<GenericRecord> writer = AvroParquetWriter.<GenericRecord>builder(
          new LocalOutputFile(staged.resolve("part-0.parquet"))).withSchema(schema)
          .withWriteMode(ParquetFileWriter.Mode.OVERWRITE).build()) {
        for (GenericRecord row : rows) {
          writer.write(row);
        }
      }
      deleteRecursively(partition);
      Files.createDirectories(partition.getParent());
      Files.move(staged, partition, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the " + table + " table to " + partition, e);
    }
  }

  static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static String text(GenericRecord r, String field) {
    Object v = r.get(field);
    return v == null ? null : v.toString();
  }

  static Double number(GenericRecord r, String field) {
    Object v = r.get(field);
    return v == null ? null : ((Number) v).doubleValue();
  }

  static Long integer(GenericRecord r, String field) {
    Object v = r.get(field);
    return v == null ? null : ((Number) v).longValue();
  }
}
