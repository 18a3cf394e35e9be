package dev.bitsweep.report;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.DemoSweep;
import dev.bitsweep.pipeline.SweepOutcome;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The demo sweep's HTML report, opened in headless Chromium: what the chart holds (read back from the page) is
 * checked against the Parquet tables as DuckDB reads them, with the frontier computed in SQL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HtmlReportBrowserTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration LOAD_TIMEOUT = Duration.ofSeconds(90);
  private SweepOutcome demo;
  private Path report;
  private Chromium browser;

  @BeforeAll
  void openTheDemoReport() throws Exception {
    Optional<Path> binary = Chromium.find();
    if (binary.isEmpty()) {
      if ("true".equals(System.getenv("CI"))) {
        fail("Chromium is needed for the report's browser test and CI=true: install it with .ci/chromium.sh"
            + " (Debian's chromium package), or name the binary in $CHROMIUM");
      }
      Assumptions.abort("no chromium on the PATH (apt-get install chromium); skipped outside CI");
    }
    demo = DemoSweep.direct();
    report = demo.out().resolve("reports").resolve(demo.sweepId() + ".html");
    assertTrue(Files.isRegularFile(report), "every sweep writes its HTML report: " + report);
    browser = Chromium.launch(binary.get(), 1300, 1900);
    browser.navigate(report.toUri().toString());
    browser.waitFor("document.body && document.body.dataset.reportReady === 'true'", LOAD_TIMEOUT);
  }

  @AfterAll
  void closeTheBrowser() throws Exception {
    if (browser != null) {
      browser.close();
    }
  }

  private String runs() {
    return table(demo.out(), "runs");
  }

  /** The frontier by definition, in SQL: ok configs that no other ok config dominates. */
  private Set<String> nonDominated(String size) throws Exception {
    Set<String> ids = new TreeSet<>();
    for (Map<String, Object> row : query("SELECT p.config_id FROM " + runs() + " p WHERE p.status = 'ok' AND NOT EXISTS"
        + " (SELECT 1 FROM " + runs() + " q WHERE q.status = 'ok' AND q." + size + " <= p." + size
        + " AND q.accuracy >= p.accuracy AND (q." + size + " < p." + size + " OR q.accuracy > p.accuracy))")) {
      ids.add((String) row.get("config_id"));
    }
    return ids;
  }

  private List<JsonNode> mirror(String series) throws Exception {
    List<JsonNode> items = new ArrayList<>();
    JsonNode all = browser.evaluate("[...document.querySelectorAll('#pareto-points li[data-series=\"" + series + "\"]')]"
        + ".map(li => ({id: li.dataset.configId, sweep: li.dataset.sweepId, x: Number(li.dataset.x), y: Number(li.dataset.y)}))");
    all.forEach(items::add);
    return items;
  }

  private static Set<String> ids(List<JsonNode> items) {
    Set<String> ids = new TreeSet<>();
    items.forEach(i -> ids.add(i.get("id").asText()));
    return ids;
  }

  @Test
  void plotsOnePointPerOkRunAtItsSizeAndAccuracy() throws Exception {
    List<Map<String, Object>> ok = query("SELECT config_id, bits_per_weight, compressed_bytes, accuracy FROM " + runs()
        + " WHERE status = 'ok' ORDER BY config_id");
    assertEquals(13, ok.size(), "the demo's 13 configs all succeed");
    List<JsonNode> points = mirror("points");
    assertEquals(ok.size(), points.size(), "one point per ok run: " + points);
    Map<String, JsonNode> byId = new HashMap<>();
    points.forEach(p -> byId.put(p.get("id").asText(), p));
    for (Map<String, Object> run : ok) {
      JsonNode point = byId.get((String) run.get("config_id"));
      assertEquals((Double) run.get("bits_per_weight"), point.get("x").asDouble(), 0.0, run.toString());
      assertEquals((Double) run.get("accuracy"), point.get("y").asDouble(), 0.0, run.toString());
      assertEquals(demo.sweepId(), point.get("sweep").asText());
    }
    // The mirror is read back from the chart; so is this count, straight from ECharts' own option.
    int inChart = browser.evaluate("echarts.getInstanceByDom(document.getElementById('pareto')).getOption().series"
        + ".filter(s => String(s.id).startsWith('points:')).reduce((n, s) => n + s.data.length, 0)").asInt();
    assertEquals(ok.size(), inChart);
    assertEquals(String.valueOf(ok.size()), browser.evaluate("document.getElementById('point-count').textContent").asText());
  }

  @Test
  void theFrontierIsExactlyTheNonDominatedConfigsOnBothViews() throws Exception {
    Set<String> byBits = nonDominated("bits_per_weight");
    assertTrue(byBits.size() >= 2 && byBits.size() < 13, "the demo has a real trade-off: " + byBits);
    assertEquals(byBits, ids(mirror("frontier")));
    browser.evaluate("document.getElementById('view-bytes').click()");
    assertEquals("bytes", browser.evaluate("document.body.dataset.paretoView").asText());
    Set<String> byBytes = nonDominated("compressed_bytes");
    assertEquals(byBytes, ids(mirror("frontier")));
    List<Map<String, Object>> sizes = query("SELECT config_id, compressed_bytes FROM " + runs() + " WHERE status = 'ok'");
    Map<String, Double> bytes = new HashMap<>();
    sizes.forEach(r -> bytes.put((String) r.get("config_id"), ((Number) r.get("compressed_bytes")).doubleValue()));
    for (JsonNode point : mirror("points")) {
      assertEquals(bytes.get(point.get("id").asText()), point.get("x").asDouble(), 0.0, point.toString());
    }
    browser.evaluate("document.getElementById('view-bits').click()");
    assertEquals(byBits, ids(mirror("frontier")));
  }

  @Test
  void theHeatmapHasALayerRowPerLayerInGraphOrderAndListsTheWorstCells() throws Exception {
    String layers = table(demo.out(), "layers");
    List<String> graphOrder = query("SELECT layer FROM " + layers + " GROUP BY layer ORDER BY min(layer_index)").stream()
        .map(r -> (String) r.get("layer")).toList();
    // the digits CNN: the conv weight comes before the classifier's in the graph (the reverse of name order)
    assertEquals(List.of("features.2.weight", "classifier.0.weight"), graphOrder);
    JsonNode option = browser.evaluate("(() => { const o = echarts.getInstanceByDom(document.getElementById('heatmap'))"
        + ".getOption(); return {rows: o.yAxis[0].data, columns: o.xAxis[0].data, cells: o.series[0].data.length}; })()");
    List<String> rows = new ArrayList<>();
    option.get("rows").forEach(r -> rows.add(r.asText()));
    assertEquals(graphOrder, rows);
    long okCells = (Long) query("SELECT count(*) AS n FROM " + layers + " WHERE status = 'ok' AND weight_snr_db IS NOT NULL")
        .get(0).get("n");
    assertEquals(okCells, option.get("cells").asLong());
    assertEquals(13, option.get("columns").size());
    List<Map<String, Object>> worst = query("SELECT layer, config_id FROM " + layers
        + " WHERE status = 'ok' ORDER BY weight_snr_db LIMIT 10");
    JsonNode listed = browser.evaluate("[...document.querySelectorAll('#worst tbody tr')]"
        + ".map(tr => tr.dataset.layer + ' ' + tr.dataset.config)");
    List<String> expected = worst.stream().map(r -> r.get("layer") + " " + r.get("config_id")).toList();
    List<String> actual = new ArrayList<>();
    listed.forEach(l -> actual.add(l.asText()));
    assertEquals(expected, actual);
    // the demo measures output_error too: a second view, whose worst cell is the largest error
    assertEquals(2, browser.evaluate("document.querySelectorAll('#heatmap-views button').length").asInt());
    browser.evaluate("document.querySelectorAll('#heatmap-views button')[1].click()");
    Map<String, Object> largest = query("SELECT layer, config_id FROM " + layers
        + " WHERE status = 'ok' ORDER BY output_error DESC LIMIT 1").get(0);
    assertEquals(largest.get("layer") + " " + largest.get("config_id"),
        browser.evaluate("(tr => tr.dataset.layer + ' ' + tr.dataset.config)(document.querySelector('#worst tbody tr'))").asText());
    browser.evaluate("document.querySelectorAll('#heatmap-views button')[0].click()");
  }

  @Test
  void tablesLinkEveryPackageAndListTheSkippedTensors() throws Exception {
    JsonNode links = browser.evaluate("[...document.querySelectorAll('#configs tbody tr')].map(tr => ({key: tr.dataset.rowKey,"
        + " hrefs: [...tr.querySelectorAll('a')].map(a => a.getAttribute('href'))}))");
    assertEquals(13, links.size());
    for (JsonNode row : links) {
      assertEquals(2, row.get("hrefs").size(), row.toString());
      for (JsonNode href : row.get("hrefs")) {
        Path target = report.getParent().resolve(href.asText()).normalize();
        assertTrue(Files.isRegularFile(target), href + " resolves to " + target);
        assertTrue(target.startsWith(demo.out().resolve("packages")), target.toString());
      }
    }
    JsonNode manifest = JSON.readTree(demo.out().resolve("packages/prune-magnitude-s50/manifest.json").toFile());
    Set<String> skipped = new HashSet<>();
    manifest.get("skipped").forEach(s -> skipped.add(s.get("tensor").asText() + " | " + s.get("reason").asText()));
    assertTrue(!skipped.isEmpty(), "the digits model leaves small tensors alone");
    JsonNode shown = browser.evaluate("[...document.querySelectorAll('table.skipped tbody tr')]"
        + ".map(tr => tr.cells[0].textContent + ' | ' + tr.cells[2].textContent)");
    Set<String> listed = new HashSet<>();
    shown.forEach(s -> listed.add(s.asText()));
    assertEquals(skipped, listed);
    String inputs = browser.evaluate("document.getElementById('inputs').textContent").asText();
    String sha = (String) query("SELECT model_sha256 FROM " + runs() + " LIMIT 1").get(0).get("model_sha256");
    assertTrue(inputs.contains(sha) && inputs.contains(manifest.get("eval_data_sha256").asText()), inputs);
  }

  @Test
  void noConsoleErrorsNoNetworkAndTheChartIsDrawn() throws Exception {
    assertEquals(List.of(), browser.errors(), "console errors and exceptions");
    for (String url : browser.requests()) {
      assertTrue(url.startsWith("file:") || url.startsWith("data:") || url.startsWith("about:"),
          "the report fetches nothing from the network: " + url);
    }
    JsonNode box = browser.evaluate("(r => ({x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}))"
        + "(document.getElementById('pareto').getBoundingClientRect())");
    byte[] png = browser.screenshot(box.get("x").asDouble(), box.get("y").asDouble(), box.get("w").asDouble(),
        box.get("h").asDouble());
    Files.write(Path.of("target", "html-report-pareto.png"), png); // to look at when this fails
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertTrue(image.getWidth() > 600 && image.getHeight() > 300, image.getWidth() + "x" + image.getHeight());
    double sum = 0;
    double sumSquares = 0;
    Set<Integer> colours = new HashSet<>();
    int n = image.getWidth() * image.getHeight();
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int rgb = image.getRGB(x, y);
        colours.add(rgb & 0xffffff);
        double luma = 0.299 * ((rgb >> 16) & 0xff) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff);
        sum += luma;
        sumSquares += luma * luma;
      }
    }
    double variance = sumSquares / n - (sum / n) * (sum / n);
    // A blank (all white) chart has variance 0 and one colour; axes, text and points give far more.
    assertTrue(variance > 50, "the chart's pixels vary: variance " + variance);
    assertTrue(colours.size() > 50, colours.size() + " distinct colours");
    // the methods' colours are drawn: the points are on the canvas, not only in the option
    for (int method : new int[] {0x2f6fde, 0xe8590c, 0x2b9348}) {
      assertTrue(colours.stream().anyMatch(c -> near(c, method, 12)), "points in colour " + Integer.toHexString(method));
    }
  }

  /** Within a tolerance per channel: colour management may move a drawn colour by a few levels. */
  private static boolean near(int rgb, int expected, int tolerance) {
    for (int shift = 0; shift <= 16; shift += 8) {
      if (Math.abs(((rgb >> shift) & 0xff) - ((expected >> shift) & 0xff)) > tolerance) {
        return false;
      }
    }
    return true;
  }
}
