package dev.bitsweep.report;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bitsweep.Fixtures;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.search.SearchOutcome;
import dev.bitsweep.search.SearchRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A search on the digits CNN, its HTML report opened in headless Chromium: every measured plan and every uniform
 * config of the search's frontier/ table is a point of the chart (plans marked as plans), at the table's size and
 * metric as DuckDB reads them, and the frontier line is exactly the rows the table marks.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SearchReportBrowserTest {
  private static final Duration LOAD_TIMEOUT = Duration.ofSeconds(90);
  @TempDir static Path work;
  private SearchOutcome search;
  private Chromium browser;

  @BeforeAll
  void searchAndOpenTheReport() throws Exception {
    Optional<Path> binary = Chromium.find();
    if (binary.isEmpty()) {
      if ("true".equals(System.getenv("CI"))) {
        fail("Chromium is needed for the report's browser test and CI=true: install it with .ci/chromium.sh");
      }
      Assumptions.abort("no chromium on the PATH (apt-get install chromium); skipped outside CI");
    }
    Path digits = Fixtures.digits().toAbsolutePath();
    Path spec = work.resolve("digits-plans.yaml");
    Files.writeString(spec, String.join("\n",
        "name: digits-plans",
        "model: " + digits.resolve("model.onnx"),
        "task: classification",
        "eval_data: " + digits.resolve("eval"),
        "batch_size: 60",
        "search:",
        "  candidates:",
        "    - {id: k2, method: palettize, mode: kmeans, nbits: 2, granularity: per_tensor}",
        "    - {id: k4, method: palettize, mode: kmeans, nbits: 4, granularity: per_tensor}",
        "  budget: {metric: accuracy, max_drop: 0.004}",
        ""));
    search = new SearchRunner(System.out).run(spec, Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
    assertEquals(search.out().resolve("reports").resolve(search.searchId() + ".html"), search.htmlReport());
    assertTrue(Files.isRegularFile(search.htmlReport()));
    browser = Chromium.launch(binary.get(), 1300, 1600);
    browser.navigate(search.htmlReport().toUri().toString());
    browser.waitFor("document.body && document.body.dataset.reportReady === 'true'", LOAD_TIMEOUT);
  }

  @AfterAll
  void closeTheBrowser() throws Exception {
    if (browser != null) {
      browser.close();
    }
  }

  private List<Map<String, Object>> frontierRows() throws Exception {
    return query("SELECT kind, config_id, metric, bits_per_weight, compressed_bytes, on_frontier FROM "
        + table(search.out(), "frontier") + " WHERE sweep_id = '" + search.searchId() + "' AND metric IS NOT NULL"
        + " AND bits_per_weight IS NOT NULL ORDER BY config_id");
  }

  private List<JsonNode> mirror(String series) throws Exception {
    List<JsonNode> items = new ArrayList<>();
    browser.evaluate("[...document.querySelectorAll('#pareto-points li[data-series=\"" + series + "\"]')]"
        + ".map(li => ({id: li.dataset.configId, kind: li.dataset.kind, x: Number(li.dataset.x), y: Number(li.dataset.y)}))")
        .forEach(items::add);
    return items;
  }

  @Test
  void everyMeasuredPlanAndUniformConfigIsAPointAndPlansAreMarked() throws Exception {
    List<Map<String, Object>> rows = frontierRows();
    long plans = rows.stream().filter(r -> r.get("kind").equals("plan")).count();
    assertTrue(plans >= 1, "the search measured at least one plan: " + rows);
    assertEquals(2, rows.stream().filter(r -> r.get("kind").equals("uniform")).count(), rows.toString());
    List<JsonNode> points = mirror("points");
    assertEquals(rows.size(), points.size(), "one point per measured plan and uniform config: " + points);
    Map<String, JsonNode> byId = new HashMap<>();
    points.forEach(p -> byId.put(p.get("id").asText(), p));
    for (Map<String, Object> row : rows) {
      JsonNode point = byId.get((String) row.get("config_id"));
      assertEquals(row.get("kind"), point.get("kind").asText(), row.toString());
      assertEquals((Double) row.get("bits_per_weight"), point.get("x").asDouble(), 0.0, row.toString());
      assertEquals((Double) row.get("metric"), point.get("y").asDouble(), 0.0, row.toString());
    }
    // the plans are their own series, drawn as diamonds
    JsonNode planSeries = browser.evaluate("echarts.getInstanceByDom(document.getElementById('pareto')).getOption()"
        + ".series.filter(s => String(s.id) === 'points:" + search.searchId() + ":plan')"
        + ".map(s => ({symbol: s.symbol, n: s.data.length}))");
    assertEquals(1, planSeries.size(), planSeries.toString());
    assertEquals("diamond", planSeries.get(0).get("symbol").asText());
    assertEquals(plans, planSeries.get(0).get("n").asLong());
  }

  @Test
  void theFrontierIsTheOneTheSearchMarkedAndTheNonDominatedOnesByBytes() throws Exception {
    Set<String> marked = new TreeSet<>();
    for (Map<String, Object> row : frontierRows()) {
      if (Boolean.TRUE.equals(row.get("on_frontier"))) {
        marked.add((String) row.get("config_id"));
      }
    }
    assertFalse(marked.isEmpty());
    assertEquals(marked, ids(mirror("frontier")));
    browser.evaluate("document.getElementById('view-bytes').click()");
    String measured = "WITH m AS (SELECT * FROM " + table(search.out(), "frontier") + " WHERE sweep_id = '"
        + search.searchId() + "' AND metric IS NOT NULL AND bits_per_weight IS NOT NULL) ";
    Set<String> byBytes = new TreeSet<>();
    for (Map<String, Object> row : query(measured + "SELECT p.config_id FROM m p WHERE NOT EXISTS (SELECT 1 FROM m q"
        + " WHERE q.compressed_bytes <= p.compressed_bytes AND q.metric >= p.metric"
        + " AND (q.compressed_bytes < p.compressed_bytes OR q.metric > p.metric))")) {
      byBytes.add((String) row.get("config_id"));
    }
    assertEquals(byBytes, ids(mirror("frontier")));
    browser.evaluate("document.getElementById('view-bits').click()");
  }

  @Test
  void thePlansTableLinksEachBuiltPlansPackage() throws Exception {
    JsonNode rows = browser.evaluate("[...document.querySelectorAll('#configs tbody tr')].map(tr => ({key: tr.dataset.rowKey,"
        + " hrefs: [...tr.querySelectorAll('a')].map(a => a.getAttribute('href'))}))");
    List<Map<String, Object>> built = query("SELECT DISTINCT plan_id FROM " + table(search.out(), "plans")
        + " WHERE sweep_id = '" + search.searchId() + "' AND package_path IS NOT NULL");
    assertEquals(built.size(), rows.size(), rows.toString());
    for (JsonNode row : rows) {
      assertEquals(2, row.get("hrefs").size(), row.toString());
      Path target = search.htmlReport().getParent().resolve(row.get("hrefs").get(0).asText()).normalize();
      assertTrue(Files.isRegularFile(target), target.toString());
    }
  }

  private static Set<String> ids(List<JsonNode> items) {
    Set<String> ids = new TreeSet<>();
    items.forEach(i -> ids.add(i.get("id").asText()));
    return ids;
  }
}
