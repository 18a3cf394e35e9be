package dev.bitsweep.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.spec.SpecException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The sweep report people look at: one self-contained HTML file (Apache ECharts and the data inlined, nothing fetched
 * at view time) with a Pareto plot of size against the headline metric, a per-layer heatmap, and the tables of
 * configs, skipped tensors, inputs and stage times. Made from the Parquet tables of an output directory alone, plus
 * the package manifests when they are there.
 */
public final class HtmlReport {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ECHARTS = "/META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js";
  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._=-]+");
  static final int WORST_CELLS = 10;

  private HtmlReport() {}

  /** Writes {@code out/reports/<sweepId>.html} and returns its path. */
  public static Path write(Path out, String sweepId) {
    return write(out, List.of(sweepId), out.resolve("reports").resolve(sweepId + ".html"));
  }

  /**
   * Writes {@code out/reports/compare-<id>+<id>....html}, overlaying sweeps of one model; sweeps of different models
   * (or whose headline metrics differ) are refused.
   */
  public static Path writeComparison(Path out, List<String> sweepIds) {
    if (sweepIds.size() < 2) {
      throw new SpecException("--compare needs at least two sweep ids, got " + sweepIds);
    }
    if (new LinkedHashSet<>(sweepIds).size() != sweepIds.size()) {
      throw new SpecException("--compare names a sweep twice: " + sweepIds);
    }
    return write(out, sweepIds, out.resolve("reports").resolve("compare-" + String.join("+", sweepIds) + ".html"));
  }

  static Path write(Path out, List<String> sweepIds, Path target) {
    Path root = out.toAbsolutePath().normalize();
    List<SweepResults> sweeps = new ArrayList<>();
    for (String id : sweepIds) {
      sweeps.add(SweepResults.read(root, id));
      if (!SAFE_ID.matcher(id).matches()) {
        throw new SpecException("sweep id '" + id + "' has characters a file name cannot carry");
      }
    }
    writePage(target, model(root, sweeps));
    return target;
  }

  /**
   * Writes {@code out/reports/<searchId>.html} for a {@code bitsweep search}: the search's uniform configs and plans
   * (its {@code frontier/} table) are the points of the size-against-metric chart, plans marked as plans, the
   * frontier as the search marked it; the plans' own sweeps give the configs table, the heatmap and their inputs.
   *
   * @param metricColumn the budget's metric, as the frontier table names it
   * @param inputs what the search was run on and with (model, task, budget, candidates), shown first
   */
  public static Path writeSearch(Path out, String searchId, String metricColumn, boolean higherIsBetter,
      Double baseline, Map<String, Object> inputs) {
    if (!SAFE_ID.matcher(searchId).matches()) {
      throw new SpecException("search id '" + searchId + "' has characters a file name cannot carry");
    }
    Path root = out.toAbsolutePath().normalize();
    Path target = root.resolve("reports").resolve(searchId + ".html");
    writePage(target, searchModel(root, searchId, new HeadlineMetric(metricColumn, higherIsBetter, null, baseline),
        inputs));
    return target;
  }

  private static void writePage(Path target, Map<String, Object> model) {
    String html = page(model);
    try {
      Files.createDirectories(target.getParent());
      Path temp = target.resolveSibling(target.getFileName() + ".tmp");
      Files.writeString(temp, html, StandardCharsets.UTF_8);
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report " + target, e);
    }
  }

  /** The page of a search: see {@link #writeSearch}. */
  static Map<String, Object> searchModel(Path out, String searchId, HeadlineMetric metric, Map<String, Object> inputs) {
    List<Map<String, Object>> frontier = SweepResults.partitionRows(out.resolve("frontier"), searchId);
    List<Map<String, Object>> plans = SweepResults.partitionRows(out.resolve("plans"), searchId);
    List<String> present = SweepResults.sweepIds(out);
    Map<String, String> planSweep = new TreeMap<>(); // plan id -> the sweep that built and measured it
    for (Map<String, Object> plan : plans) {
      String path = SweepResults.text(plan, "package_path");
      String[] parts = path == null ? new String[0] : path.replace('\\', '/').split("/");
      if (parts.length >= 3 && parts[0].equals("packages") && present.contains(parts[1])) {
        planSweep.put((String) plan.get("plan_id"), parts[1]);
      }
    }
    List<SweepResults> sweeps = new ArrayList<>();
    for (String id : new LinkedHashSet<>(planSweep.values())) {
      sweeps.add(SweepResults.read(out, id));
    }

    List<Map<String, Object>> points = new ArrayList<>();
    for (Map<String, Object> row : frontier) {
      Double bits = SweepResults.number(row, "bits_per_weight");
      Double bytes = SweepResults.number(row, "compressed_bytes");
      Double value = SweepResults.number(row, "metric");
      if (bits == null || bytes == null || value == null || !Double.isFinite(value)) {
        continue;
      }
      boolean plan = "plan".equals(row.get("kind"));
      String configId = (String) row.get("config_id");
      Map<String, Object> point = new LinkedHashMap<>();
      point.put("sweepId", searchId);
      point.put("configId", configId);
      point.put("kind", plan ? "plan" : "uniform");
      point.put("method", plan ? "plan" : "uniform config");
      point.put("bitsPerWeight", bits);
      point.put("compressedBytes", bytes.longValue());
      point.put("sizeRatio", null);
      point.put("metric", value);
      point.put("agreement", null);
      point.put("outputSnrDb", null);
      point.put("meetsBudget", row.get("meets_budget"));
      point.put("frontierBits", Boolean.TRUE.equals(row.get("on_frontier")));
      if (plan && planSweep.containsKey(configId)) {
        point.put("rowKey", planSweep.get(configId) + "/" + configId);
      }
      points.add(point);
    }
    markFrontier(points, "compressedBytes", "frontierBytes", metric);

    Map<String, Object> page = new LinkedHashMap<>();
    page.put("title", "Search " + searchId);
    page.put("compare", false);
    page.put("search", true);
    page.put("bitsLabel", "bits per weight (all searched layers)");
    Map<String, Object> metricJson = new LinkedHashMap<>();
    metricJson.put("column", metric.column());
    metricJson.put("higherIsBetter", metric.higherIsBetter());
    Double baseline = metric.baseline(List.of());
    metricJson.put("baseline", baseline != null && Double.isFinite(baseline) ? baseline : null);
    metricJson.put("why", metric.column() + " (" + (metric.higherIsBetter() ? "higher" : "lower") + " is better), the"
        + " budget's metric; diamonds are the plans the search built and measured, circles each candidate applied"
        + " uniformly, the frontier as the search's frontier/ table marks it");
    page.put("metric", metricJson);
    List<Map<String, Object>> sweepJson = new ArrayList<>();
    Map<String, Object> own = new LinkedHashMap<>();
    own.put("sweepId", searchId);
    Map<String, Object> shown = new LinkedHashMap<>(inputs);
    shown.put("plans", plans.size() + " (" + plans.stream().filter(p -> Boolean.TRUE.equals(p.get("meets_budget")))
        .count() + " meet the budget)");
    own.put("inputs", shown);
    own.put("stageSeconds", null); // the search's own sweeps report theirs
    own.put("skipped", null);
    own.put("skippedNote", null);
    sweepJson.add(own);
    List<Map<String, Object>> configs = new ArrayList<>();
    for (SweepResults sweep : sweeps) {
      Map<String, JsonNode> manifests = manifests(out, sweep);
      sweepJson.add(sweepInputs(sweep, manifests));
      for (Map<String, Object> run : sweep.runs()) {
        configs.add(configRow(out, sweep.sweepId(), run, metric, manifests));
      }
    }
    page.put("sweeps", sweepJson);
    page.put("points", points);
    page.put("configs", configs);
    page.put("heatmap", Heatmap.of(sweeps, WORST_CELLS, false)); // one plan per sweep: plan ids are unique
    return page;
  }

  /** Everything the page shows, as JSON-ready maps and lists. */
  static Map<String, Object> model(Path out, List<SweepResults> sweeps) {
    SweepResults first = sweeps.get(0);
    String modelSha = SweepResults.text(first.runs().get(0), "model_sha256");
    String task = SweepResults.text(first.runs().get(0), "task");
    List<Map<String, Object>> allRuns = new ArrayList<>();
    for (SweepResults sweep : sweeps) {
      String sha = SweepResults.text(sweep.runs().get(0), "model_sha256");
      if (!Objects.equals(sha, modelSha)) {
        throw new SpecException("--compare overlays sweeps of one model, but sweep " + sweep.sweepId() + " ran "
            + SweepResults.text(sweep.runs().get(0), "model") + " (sha256 " + sha + ") and sweep " + first.sweepId()
            + " ran " + SweepResults.text(first.runs().get(0), "model") + " (sha256 " + modelSha
            + "); compare sweeps of the same model, or write their reports one by one");
      }
      allRuns.addAll(sweep.runs());
    }
    HeadlineMetric metric = HeadlineMetric.of(task, allRuns);
    for (SweepResults sweep : sweeps) {
      HeadlineMetric own = HeadlineMetric.of(SweepResults.text(sweep.runs().get(0), "task"), sweep.runs());
      if (!own.column().equals(metric.column())) {
        throw new SpecException("sweep " + sweep.sweepId() + " is scored by " + own.column() + " but sweep "
            + first.sweepId() + " by " + metric.column() + "; --compare overlays sweeps with the same headline metric");
      }
    }

    Map<String, Object> page = new LinkedHashMap<>();
    page.put("title", sweeps.size() == 1 ? "Sweep " + first.sweepId()
        : "Comparison of sweeps " + String.join(", ", sweeps.stream().map(SweepResults::sweepId).toList()));
    page.put("compare", sweeps.size() > 1);
    Map<String, Object> metricJson = new LinkedHashMap<>();
    metricJson.put("column", metric.column());
    metricJson.put("higherIsBetter", metric.higherIsBetter());
    metricJson.put("baseline", metric.baseline(allRuns));
    metricJson.put("why", describe(metric, task));
    page.put("metric", metricJson);

    List<Map<String, Object>> sweepJson = new ArrayList<>();
    List<Map<String, Object>> points = new ArrayList<>();
    List<Map<String, Object>> configs = new ArrayList<>();
    for (SweepResults sweep : sweeps) {
      Map<String, JsonNode> manifests = manifests(out, sweep);
      sweepJson.add(sweepInputs(sweep, manifests));
      points.addAll(points(sweep, metric));
      for (Map<String, Object> run : sweep.runs()) {
        configs.add(configRow(out, sweep.sweepId(), run, metric, manifests));
      }
    }
    page.put("sweeps", sweepJson);
    page.put("points", points);
    page.put("configs", configs);
    page.put("heatmap", Heatmap.of(sweeps, WORST_CELLS));
    return page;
  }

  private static String describe(HeadlineMetric metric, String task) {
    String direction = metric.higherIsBetter() ? "higher is better" : "lower is better";
    if (metric == HeadlineMetric.OUTPUT_SNR) {
      return "output_snr_db (" + direction + "): the task '" + task + "' has no headline metric of its own in the"
          + " runs table, so the report plots the SNR of the outputs against the original model's";
    }
    return metric.column() + " (" + direction + "), the headline metric of task '" + task + "'";
  }

  /** One point per config with status ok and both coordinates, with its place on each view's frontier. */
  static List<Map<String, Object>> points(SweepResults sweep, HeadlineMetric metric) {
    List<Map<String, Object>> plotted = new ArrayList<>();
    for (Map<String, Object> run : sweep.runs()) {
      Double bits = SweepResults.number(run, "bits_per_weight");
      Double bytes = SweepResults.number(run, "compressed_bytes");
      Double value = SweepResults.number(run, metric.column());
      if (!"ok".equals(run.get("status")) || bits == null || bytes == null || value == null || !Double.isFinite(value)) {
        continue;
      }
      Map<String, Object> point = new LinkedHashMap<>();
      point.put("sweepId", sweep.sweepId());
      point.put("configId", run.get("config_id"));
      point.put("method", Objects.requireNonNullElse(SweepResults.text(run, "method"), "unknown"));
      point.put("bitsPerWeight", bits);
      point.put("compressedBytes", bytes.longValue());
      point.put("sizeRatio", run.get("size_ratio"));
      point.put("metric", value);
      point.put("agreement", run.get("agreement"));
      point.put("outputSnrDb", finite(run.get("output_snr_db")));
      plotted.add(point);
    }
    markFrontier(plotted, "bitsPerWeight", "frontierBits", metric);
    markFrontier(plotted, "compressedBytes", "frontierBytes", metric);
    return plotted;
  }

  private static void markFrontier(List<Map<String, Object>> points, String sizeKey, String flag, HeadlineMetric metric) {
    double[] size = points.stream().mapToDouble(p -> ((Number) p.get(sizeKey)).doubleValue()).toArray();
    double[] value = points.stream().mapToDouble(p -> (Double) p.get("metric")).toArray();
    Set<Integer> frontier = Set.copyOf(Frontier.of(size, value, metric.higherIsBetter()));
    for (int i = 0; i < points.size(); i++) {
      points.get(i).put(flag, frontier.contains(i));
    }
  }

  private static Map<String, Object> configRow(Path out, String sweepId, Map<String, Object> run, HeadlineMetric metric,
      Map<String, JsonNode> manifests) {
    Map<String, Object> row = new LinkedHashMap<>();
    String configId = (String) run.get("config_id");
    row.put("sweepId", sweepId);
    row.put("configId", configId);
    row.put("method", run.get("method"));
    row.put("status", run.get("status"));
    row.put("error", run.get("error"));
    row.put("bitsPerWeight", run.get("bits_per_weight"));
    row.put("compressedBytes", run.get("compressed_bytes"));
    row.put("sizeRatio", run.get("size_ratio"));
    row.put("metric", finite(run.get(metric.column())));
    row.put("accuracy", run.get("accuracy"));
    row.put("agreement", run.get("agreement"));
    row.put("embeddingCosine", run.get("embedding_cosine"));
    row.put("outputSnrDb", finite(run.get("output_snr_db")));
    row.put("maxAbsDiff", finite(run.get("max_abs_diff")));
    row.put("layersCompressed", run.get("layers_compressed"));
    row.put("compressSeconds", run.get("compress_seconds"));
    row.put("packageSeconds", run.get("package_seconds"));
    row.put("evalSeconds", run.get("eval_seconds"));
    String packagePath = SweepResults.text(run, "package_path");
    if (packagePath != null) {
      Path model = out.resolve(packagePath).normalize();
      if (!model.startsWith(out)) {
        row.put("linkNote", "package_path " + packagePath + " points outside the output directory; not linked");
      } else if (!Files.isRegularFile(model)) {
        row.put("linkNote", "package not in " + out.relativize(model.getParent()) + " (results copied without packages?)");
      } else if (!manifests.containsKey(configId)) {
        row.put("linkNote", "packages/" + configId + " now holds another sweep's package");
      } else {
        String relative = "../" + out.relativize(model).toString().replace('\\', '/');
        row.put("packageLink", relative);
        row.put("manifestLink", relative.substring(0, relative.lastIndexOf('/') + 1) + "manifest.json");
      }
    }
    return row;
  }

  /** The manifests in packages/ that belong to this sweep, by config id. */
  private static Map<String, JsonNode> manifests(Path out, SweepResults sweep) {
    Map<String, JsonNode> found = new TreeMap<>();
    for (Map<String, Object> run : sweep.runs()) {
      String packagePath = SweepResults.text(run, "package_path");
      if (packagePath == null) {
        continue;
      }
      Path manifest = out.resolve(packagePath).normalize().resolveSibling("manifest.json");
      if (!manifest.startsWith(out) || !Files.isRegularFile(manifest)) {
        continue;
      }
      try {
        JsonNode json = JSON.readTree(manifest.toFile());
        if (sweep.sweepId().equals(json.path("sweep_id").asText())) {
          found.put((String) run.get("config_id"), json);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the manifest " + manifest, e);
      }
    }
    return found;
  }

  private static Map<String, Object> sweepInputs(SweepResults sweep, Map<String, JsonNode> manifests) {
    Map<String, Object> first = sweep.runs().get(0);
    JsonNode manifest = manifests.isEmpty() ? null : manifests.values().iterator().next();
    Map<String, Object> inputs = new LinkedHashMap<>();
    inputs.put("model", first.get("model"));
    inputs.put("model sha256", first.get("model_sha256"));
    if (manifest != null) {
      inputs.put("model path (at sweep time)", manifest.path("source_model").path("path").asText(null));
      inputs.put("model opset", manifest.path("source_model").path("opset").asText(null));
    }
    inputs.put("task", first.get("task"));
    inputs.put("eval samples", first.get("eval_samples"));
    inputs.put("eval data sha256", manifest == null ? "(in the package manifests, which are absent)"
        : manifest.path("eval_data_sha256").asText(null));
    if (manifest != null) {
      JsonNode calibration = manifest.path("calibration_data_sha256");
      inputs.put("calibration data sha256", calibration.isNull() || calibration.isMissingNode() ? "none" : calibration.asText());
    }
    inputs.put("runtime", first.get("runtime"));
    inputs.put("runtime settings", first.get("runtime_settings"));
    inputs.put("bitsweep version", first.get("bitsweep_version"));
    inputs.put("schema version", first.get("schema_version"));
    long ok = sweep.runs().stream().filter(r -> "ok".equals(r.get("status"))).count();
    inputs.put("configs", sweep.runs().size() + " (" + ok + " ok, " + (sweep.runs().size() - ok) + " not)");

    Map<String, Object> sweepJson = new LinkedHashMap<>();
    sweepJson.put("sweepId", sweep.sweepId());
    sweepJson.put("inputs", inputs);
    sweepJson.put("stageSeconds", stageSeconds(sweep.runs()));
    if (manifest == null) {
      sweepJson.put("skipped", null);
      sweepJson.put("skippedNote", "No package manifest of this sweep is in packages/ (results copied without"
          + " their packages, or overwritten by a later sweep), so the skipped tensors are unknown here.");
    } else {
      List<Map<String, Object>> skipped = new ArrayList<>();
      for (JsonNode tensor : manifest.path("skipped")) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("tensor", tensor.path("tensor").asText());
        entry.put("shape", tensor.path("shape").asText());
        entry.put("reason", tensor.path("reason").asText());
        skipped.add(entry);
      }
      sweepJson.put("skipped", skipped);
      sweepJson.put("skippedNote", "From the manifest of " + manifests.keySet().iterator().next() + ".");
    }
    return sweepJson;
  }

  /** The sum over configs of each stage's seconds (task time, summed over parallel workers). */
  private static Map<String, Object> stageSeconds(List<Map<String, Object>> runs) {
    Map<String, Object> totals = new LinkedHashMap<>();
    for (String column : List.of("compress_seconds", "package_seconds", "eval_seconds")) {
      totals.put(column, runs.stream().map(r -> SweepResults.number(r, column)).filter(Objects::nonNull)
          .mapToDouble(Double::doubleValue).sum());
    }
    return totals;
  }

  /** Jackson writes NaN and infinities as bare tokens, which JSON.parse rejects: they go as text. */
  static Object finite(Object value) {
    return value instanceof Double d && !Double.isFinite(d) ? d.toString() : value;
  }

  private static String page(Map<String, Object> model) {
    String data;
    try {
      data = JSON.writeValueAsString(model);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // "<" only occurs inside JSON strings, where \u003c means the same: no "</script>" can end the block early.
    data = data.replace("<", "\\u003c");
    String template = resource("/dev/bitsweep/report/report.html");
    String[] parts = template.split("/\\*(CSS|ECHARTS|DATA|SCRIPT)\\*/", -1);
    if (parts.length != 5) {
      throw new IllegalStateException("report.html must hold /*CSS*/, /*ECHARTS*/, /*DATA*/ and /*SCRIPT*/ once each");
    }
    return parts[0] + resource("/dev/bitsweep/report/report.css") + parts[1] + resource(ECHARTS) + parts[2] + data
        + parts[3] + resource("/dev/bitsweep/report/report.js") + parts[4];
  }

  private static String resource(String name) {
    try (InputStream in = HtmlReport.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing class path resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
