package dev.bitsweep.report;

import static dev.bitsweep.ResultTables.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.DemoSweep;
import dev.bitsweep.cli.Main;
import dev.bitsweep.pipeline.SweepOutcome;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bitsweep report} on a copy of the demo's results: regenerated from the tables alone, overlays of sweeps of
 * one model, and bad input refused with exit code 2.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReportCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path work;
  private SweepOutcome demo;

  @BeforeAll
  void runTheDemo() {
    demo = DemoSweep.direct();
  }

  /** A copy of the demo's runs and layers only (no packages), plus sweeps derived from it with DuckDB. */
  private Path tablesOnly() throws Exception {
    Path out = work.resolve("copied");
    for (String t : List.of("runs", "layers")) {
      Path partition = out.resolve(t).resolve("sweep_id=" + demo.sweepId());
      Files.createDirectories(partition);
      try (var files = Files.list(demo.out().resolve(t).resolve("sweep_id=" + demo.sweepId()))) {
        for (Path f : files.toList()) {
          Files.copy(f, partition.resolve(f.getFileName()));
        }
      }
    }
    return out;
  }

  private void derive(Path out, String sweepId, String table, String replace) throws Exception {
    Path partition = Files.createDirectories(out.resolve(table).resolve("sweep_id=" + sweepId));
    try (Connection duckdb = DriverManager.getConnection("jdbc:duckdb:"); Statement statement = duckdb.createStatement()) {
      statement.execute("COPY (SELECT * EXCLUDE (sweep_id)" + replace + " FROM read_parquet('" + demo.out().resolve(table)
          + "/*/*.parquet', hive_partitioning = true)) TO '" + partition.resolve("part-0.parquet") + "' (FORMAT parquet)");
    }
  }

  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int exit = Main.execute(args);
      return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  private static JsonNode embeddedData(Path html) throws Exception {
    String text = Files.readString(html);
    int start = text.indexOf("<script type=\"application/json\" id=\"report-data\">");
    int end = text.indexOf("</script>", start);
    assertTrue(start > 0 && end > start);
    return JSON.readTree(text.substring(text.indexOf('>', start) + 1, end));
  }

  @Test
  void regeneratesFromTheTablesAloneAndSaysWhatIsMissing() throws Exception {
    Path out = tablesOnly();
    Run run = run("report", out.toString(), "--sweep", demo.sweepId());
    assertEquals(0, run.exit(), run.err());
    Path html = out.resolve("reports").resolve(demo.sweepId() + ".html");
    assertTrue(run.out().contains(html.toString()), run.out());
    String text = Files.readString(html);
    assertFalse(text.contains("src=\"http") || text.contains("href=\"http"), "nothing to fetch at view time");
    assertTrue(text.contains("echarts"), "the charting library is inlined");
    JsonNode data = embeddedData(html);
    assertEquals(13, data.get("points").size());
    assertTrue(data.get("sweeps").get(0).get("skipped").isNull());
    assertTrue(data.get("sweeps").get(0).get("skippedNote").asText().contains("No package manifest"));
    for (JsonNode config : data.get("configs")) {
      assertFalse(config.has("packageLink"), "no link to a package that is not there");
      assertTrue(config.get("linkNote").asText().contains("package not in"), config.toString());
    }
    assertEquals("accuracy", data.get("metric").get("column").asText());
    assertEquals(532.0 / 540, data.get("metric").get("baseline").asDouble(), 0.0);
  }

  @Test
  void comparesSweepsOfOneModelAndRefusesOtherModels() throws Exception {
    Path out = tablesOnly();
    derive(out, "worse", "runs", " REPLACE (accuracy - 0.01 AS accuracy)");
    derive(out, "worse", "layers", "");
    derive(out, "other-model", "runs", " REPLACE ('0000' AS model_sha256, 'other.onnx' AS model)");
    Run compared = run("report", out.toString(), "--compare", demo.sweepId(), "worse");
    assertEquals(0, compared.exit(), compared.err());
    Path html = out.resolve("reports").resolve("compare-" + demo.sweepId() + "+worse.html");
    JsonNode data = embeddedData(html);
    assertEquals(26, data.get("points").size());
    assertEquals(26, data.get("heatmap").get("columns").size());
    // each sweep's frontier is its own: the derived sweep is the demo shifted down, so the same configs
    Set<String> own = new TreeSet<>();
    Set<String> worse = new TreeSet<>();
    for (JsonNode p : data.get("points")) {
      if (p.get("frontierBits").asBoolean()) {
        (p.get("sweepId").asText().equals("worse") ? worse : own).add(p.get("configId").asText());
      }
    }
    assertEquals(own, worse);
    assertFalse(own.isEmpty());

    Run refused = run("report", out.toString(), "--compare", demo.sweepId(), "other-model");
    assertEquals(2, refused.exit());
    assertTrue(refused.err().contains("other.onnx") && refused.err().contains("same model"), refused.err());
  }

  @Test
  void badInputExitsWith2AndNamesWhatIsThere() throws Exception {
    Path out = tablesOnly();
    Run unknown = run("report", out.toString(), "--sweep", "no-such-sweep");
    assertEquals(2, unknown.exit());
    assertTrue(unknown.err().contains("no sweep 'no-such-sweep'") && unknown.err().contains(demo.sweepId()), unknown.err());
    Run unknownCompared = run("report", out.toString(), "--compare", demo.sweepId(), "nope");
    assertEquals(2, unknownCompared.exit());
    assertTrue(unknownCompared.err().contains(demo.sweepId()), unknownCompared.err());
    Run empty = run("report", Files.createDirectories(work.resolve("empty")).toString());
    assertEquals(2, empty.exit());
    assertTrue(empty.err().contains("holds no sweep results"), empty.err());
    Run missing = run("report", work.resolve("absent").toString());
    assertEquals(2, missing.exit());
    assertTrue(missing.err().contains("is not a directory"), missing.err());
  }

  @Test
  void everySweepWithoutSweepOption() throws Exception {
    Path out = tablesOnly();
    derive(out, "worse", "runs", " REPLACE (accuracy - 0.01 AS accuracy)");
    Run run = run("report", out.toString());
    assertEquals(0, run.exit(), run.err());
    assertTrue(Files.isRegularFile(out.resolve("reports").resolve(demo.sweepId() + ".html")));
    assertTrue(Files.isRegularFile(out.resolve("reports").resolve("worse.html")));
    Map<String, Object> count = query("SELECT count(*) AS n FROM read_parquet('" + out.resolve("runs")
        + "/*/*.parquet', hive_partitioning = true)").get(0);
    assertEquals(26L, count.get("n"));
  }
}
