package dev.bitsweep.search;

import dev.bitsweep.cluster.Launch;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.pipeline.DataFingerprint;
import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import dev.bitsweep.plan.CoremlConfigWriter;
import dev.bitsweep.plan.LayerChoices;
import dev.bitsweep.plan.MultipleChoiceKnapsack;
import dev.bitsweep.plan.ParetoFrontier;
import dev.bitsweep.plan.PlanSpecWriter;
import dev.bitsweep.plan.RankCorrelation;
import dev.bitsweep.report.HtmlReport;
import dev.bitsweep.results.ResultSchemas;
import dev.bitsweep.results.SearchSchemas;
import dev.bitsweep.spec.SweepSpec;
import dev.bitsweep.stats.CapturePlan;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Runs a search: measures every (layer, candidate) alone as one generated sweep (cached), predicts a plan's loss as
 * the sum of its layers' losses, solves exactly ({@link MultipleChoiceKnapsack}), then builds and evaluates the plan
 * as a sweep of its own emitted spec. A plan that misses the budget tightens the predicted budget by the miss (and
 * below the missed plan's own prediction, so the next plan differs) and is solved again, until a measured plan meets
 * the budget, only the original model is left, or the rounds run out; each outcome is reported as such.
 */
public final class SearchRunner {
  static final String FP32 = "fp32";
  private final PrintStream console;

  public SearchRunner(PrintStream console) {
    this.console = console;
  }

  /** A layer with the candidates that can compress it. */
  private record SearchLayer(int index, Layer layer, List<SearchSpec.Candidate> candidates) {}

  public SearchOutcome run(Path specFile, Launch launch) {
    SearchSpec spec = SearchSpec.read(specFile);
    SweepSpec sweep = spec.sweep();
    Path out = spec.out(launch.outOverride());
    Launch inner = launch.withOut(out);
    OnnxModel model = OnnxModel.read(sweep.model());
    List<Layer> layers = LayerFinder.find(model.proto(), sweep.weightThreshold()).layers();
    if (layers.isEmpty()) {
      throw new ModelException("model " + sweep.model() + " has no compressible layers to search over");
    }
    CapturePlan capture = CapturePlan.of(model.proto(), layers);
    List<SearchLayer> searchLayers = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      Layer layer = layers.get(i);
      List<SearchSpec.Candidate> fitting = new ArrayList<>();
      for (SearchSpec.Candidate c : spec.candidates()) {
        if (fits(c.config(), layer) && (!c.config().needsCalibration() || capture.sites().containsKey(layer.name()))) {
          fitting.add(c);
        }
      }
      searchLayers.add(new SearchLayer(i, layer, fitting));
    }
    String evalSha = DataFingerprint.of(sweep.evalData());
    String calibrationSha = sweep.calibrationData() == null ? null : DataFingerprint.of(sweep.calibrationData());
    String inputs = String.join("|", model.sha256(), evalSha, String.valueOf(sweep.evalSamples()),
        sweep.task().label(), String.valueOf(calibrationSha), String.valueOf(sweep.calibrationSamples()),
        String.valueOf(sweep.weightThreshold()));
    StringBuilder identity = new StringBuilder(inputs);
    spec.candidates().forEach(c -> identity.append('|').append(c.id()).append(new TreeMap<>(c.config().fields())));
    identity.append('|').append(spec.budget() == null ? spec.sizeCap() : spec.budget().describe()).append('|').append(spec.target());
    String searchId = sweep.name() + "-" + hash(identity.toString()).substring(0, 8);
    Path searchDir = out.resolve("search").resolve(searchId);
    console.printf("bitsweep search %s: %d layers x %d candidates, %s%n", searchId, layers.size(),
        spec.candidates().size(), spec.budget() != null ? "budget " + spec.budget().describe() : "size cap " + spec.sizeCap());

    SensitivityCache cache = new SensitivityCache(out, inputs);
    Map<String, Boolean> wasCached = new HashMap<>();
    measureSensitivity(spec, searchLayers, cache, wasCached, searchDir, inner);

    Budget.Metric metric = spec.budget() != null ? spec.budget().metric() : defaultMetric(sweep.task());
    double baseline = baseline(spec, searchLayers, cache, metric);
    long totalParams = layers.stream().mapToLong(Layer::params).sum();
    long originalLayerBytes = 0;
    List<LayerChoices> choices = new ArrayList<>();
    List<GenericRecord> sensitivityRows = new ArrayList<>();
    Map<String, double[]> proxies = new LinkedHashMap<>();
    for (SearchLayer sl : searchLayers) {
      long original = originalBytes(sl.layer());
      originalLayerBytes += original;
      List<LayerChoices.Option> options = new ArrayList<>();
      options.add(new LayerChoices.Option(FP32, original, 0));
      for (SearchSpec.Candidate c : sl.candidates()) {
        Map<String, Object> m = cache.get(c.config().fields(), sl.layer().name()).orElseThrow();
        Double value = value(m, metric);
        boolean ok = "ok".equals(m.get("status")) && value != null && m.get("layer_bytes") != null;
        Double loss = ok ? Budget.loss(metric, baseline, value) : null;
        if (ok && Double.isFinite(loss)) {
          options.add(new LayerChoices.Option(c.id(), ((Number) m.get("layer_bytes")).longValue(), loss));
        }
        sensitivityRows.add(sensitivityRow(sl, c, m, metric, baseline, value, loss, original,
            wasCached.getOrDefault(key(c, sl.layer().name()), true)));
      }
      choices.add(new LayerChoices(sl.layer().name(), options));
    }
    SearchTables.write(out, "sensitivity", searchId, SearchSchemas.SENSITIVITY, sensitivityRows);
    String proxyReport = proxyCorrelations(sensitivityRows);
    console.print(proxyReport);

    List<SearchOutcome.UniformRow> uniforms = new ArrayList<>();
    for (SearchSpec.Candidate c : spec.candidates()) {
      Map<String, Object> m = cache.get(c.config().fields(), "*").orElseThrow();
      Double value = value(m, metric);
      Double bpw = null;
      if (m.get("layer_bytes") != null) {
        long bytes = ((Number) m.get("layer_bytes")).longValue() + ((Number) m.get("uncompressed_bytes")).longValue();
        bpw = 8.0 * bytes / totalParams;
      }
      boolean meets = value != null && "ok".equals(m.get("status")) && meets(spec, baseline, value, bpw,
          m.get("compressed_bytes") == null ? null : ((Number) m.get("compressed_bytes")).longValue());
      Long layerBytes = m.get("layer_bytes") == null ? null
          : ((Number) m.get("layer_bytes")).longValue() + ((Number) m.get("uncompressed_bytes")).longValue();
      uniforms.add(new SearchOutcome.UniformRow("uniform-" + c.id(), c.id(), String.valueOf(m.get("status")), value,
          bpw, layerBytes, m.get("compressed_bytes") == null ? null : ((Number) m.get("compressed_bytes")).longValue(),
          meets));
    }

    MultipleChoiceKnapsack solver = MultipleChoiceKnapsack.of(choices);
    Planner planner = new Planner(spec, sweep, searchLayers, choices, searchDir, out, inner, metric, baseline,
        totalParams, model.fileBytes() - originalLayerBytes);
    List<SearchOutcome.PlanRow> plans = new ArrayList<>();
    SearchOutcome.UniformRow cheapest = uniforms.stream().filter(SearchOutcome.UniformRow::meetsBudget)
        .min((a, b) -> Long.compare(a.layerBytes(), b.layerBytes())).orElse(null);
    double uniformLoss = 0;
    if (cheapest != null) {
      for (LayerChoices layer : choices) {
        uniformLoss += layer.options().stream().filter(o -> o.candidate().equals(cheapest.candidate())).findFirst()
            .orElse(layer.options().get(0)).loss();
      }
    }
    String status = spec.budget() != null ? planner.searchBudget(solver, plans, cheapest, uniformLoss)
        : planner.searchCap(solver, plans);
    SearchOutcome.PlanRow best = plans.stream().filter(SearchOutcome.PlanRow::meetsBudget)
        .min((a, b) -> Long.compare(a.layerBytes(), b.layerBytes())).orElse(null);

    boolean[] frontier = markFrontier(plans, uniforms, metric);
    writePlanTables(out, searchId, spec, metric, baseline, plans, uniforms, frontier);
    String verdict = verdict(spec, best, uniforms, status);
    console.println(verdict);
    Path report = writeReport(searchDir, searchId, spec, metric, baseline, plans, uniforms, frontier, proxyReport, verdict);
    Map<String, Object> reportInputs = new LinkedHashMap<>();
    reportInputs.put("model", sweep.model().toString());
    reportInputs.put("model sha256", model.sha256());
    reportInputs.put("task", sweep.task().label());
    reportInputs.put("eval samples", sweep.evalSamples() == 0 ? "all" : sweep.evalSamples());
    reportInputs.put(spec.budget() != null ? "budget" : "size cap",
        spec.budget() != null ? spec.budget().describe() : String.valueOf(spec.sizeCap()));
    reportInputs.put("candidates", String.join(", ", spec.candidates().stream().map(SearchSpec.Candidate::id).toList()));
    reportInputs.put("status", status);
    reportInputs.put("verdict", verdict);
    Path htmlReport = HtmlReport.writeSearch(out, searchId, metric.label(), metric.higherIsBetter(), baseline, reportInputs);
    return new SearchOutcome(searchId, out, status, best, plans, uniforms, verdict, report, htmlReport);
  }

  private void measureSensitivity(SearchSpec spec, List<SearchLayer> searchLayers, SensitivityCache cache,
      Map<String, Boolean> wasCached, Path searchDir, Launch launch) {
    Map<String, Map<String, Map<String, Object>>> configs = new LinkedHashMap<>();
    Map<String, String[]> measures = new LinkedHashMap<>(); // config id -> (candidate id, layer name or *)
    for (SearchSpec.Candidate c : spec.candidates()) {
      Map<String, Map<String, Object>> uniform = new LinkedHashMap<>();
      for (SearchLayer sl : searchLayers) {
        if (sl.candidates().contains(c)) {
          uniform.put(sl.layer().name(), c.config().fields());
        }
      }
      boolean cached = cache.get(c.config().fields(), "*").isPresent();
      wasCached.put(key(c, "*"), cached);
      if (!cached && !uniform.isEmpty()) {
        configs.put("uniform-" + c.id(), uniform);
        measures.put("uniform-" + c.id(), new String[] {c.id(), "*"});
      } else if (uniform.isEmpty()) {
        cache.put(c.config().fields(), "*", Map.of("status", "failed", "error", "fits no layer"));
      }
      for (SearchLayer sl : searchLayers) {
        if (!sl.candidates().contains(c)) {
          continue;
        }
        boolean hit = cache.get(c.config().fields(), sl.layer().name()).isPresent();
        wasCached.put(key(c, sl.layer().name()), hit);
        if (!hit) {
          String id = "s" + sl.index() + "-" + c.id();
          Map<String, Map<String, Object>> one = new LinkedHashMap<>();
          one.put(sl.layer().name(), c.config().fields());
          configs.put(id, one);
          measures.put(id, new String[] {c.id(), sl.layer().name()});
        }
      }
    }
    if (configs.isEmpty()) {
      console.println("  sensitivity: every (layer, candidate) and uniform config is cached; no sensitivity sweep");
      return;
    }
    console.printf("  sensitivity: %d configs to measure (%d cached)%n", configs.size(),
        wasCached.values().stream().filter(b -> b).count());
    Path specFile = searchDir.resolve("sensitivity.yaml");
    writeText(specFile, PlanSpecWriter.writeConfigs(header(spec.sweep(), spec.sweep().name() + "-sensitivity", searchDir), configs));
    SweepOutcome outcome = new SweepRunner(console).run(specFile, launch);
    Map<String, GenericRecord> runs = new HashMap<>();
    SearchTables.read(outcome.out(), "runs", outcome.sweepId()).forEach(r -> runs.put(SearchTables.text(r, "config_id"), r));
    Map<String, List<GenericRecord>> layerRows = new HashMap<>();
    SearchTables.read(outcome.out(), "layers", outcome.sweepId())
        .forEach(r -> layerRows.computeIfAbsent(SearchTables.text(r, "config_id"), k -> new ArrayList<>()).add(r));
    Map<String, SearchSpec.Candidate> byId = new HashMap<>();
    spec.candidates().forEach(c -> byId.put(c.id(), c));
    long allOriginal = searchLayers.stream().mapToLong(sl -> originalBytes(sl.layer())).sum();
    measures.forEach((configId, what) -> {
      GenericRecord run = runs.get(configId);
      Map<String, Object> values = new LinkedHashMap<>();
      values.put("status", run == null ? "failed" : SearchTables.text(run, "status"));
      values.put("error", run == null ? "no run row" : SearchTables.text(run, "error"));
      if (run != null) {
        for (String column : List.of("accuracy", "baseline_accuracy", "agreement", "output_snr_db", "embedding_cosine",
            "perplexity", "baseline_perplexity", "bits_per_weight", "size_ratio")) {
          Double v = SearchTables.number(run, column);
          values.put(column, v == null || v.isInfinite() ? (v == null ? null : v.toString()) : v);
        }
        values.put("compressed_bytes", SearchTables.integer(run, "compressed_bytes"));
      }
      long layerBytes = 0;
      long compressedOriginal = 0;
      boolean allOk = run != null;
      for (GenericRecord row : layerRows.getOrDefault(configId, List.of())) {
        if (!"ok".equals(SearchTables.text(row, "status")) || SearchTables.integer(row, "compressed_bytes") == null) {
          allOk = false;
          continue;
        }
        layerBytes += SearchTables.integer(row, "compressed_bytes");
        compressedOriginal += SearchTables.integer(row, "original_bytes");
        if (!what[1].equals("*")) {
          values.put("weight_snr_db", finiteOrText(SearchTables.number(row, "weight_snr_db")));
          values.put("output_error", SearchTables.number(row, "output_error"));
        }
      }
      if (allOk && "ok".equals(values.get("status"))) {
        values.put("layer_bytes", layerBytes);
        values.put("uncompressed_bytes", allOriginal - compressedOriginal);
      }
      cache.put(byId.get(what[0]).config().fields(), what[1], values);
      if (!what[1].equals("*") && !spec.keepSensitivityPackages() && run != null
          && SearchTables.text(run, "package_path") != null) {
        deletePackage(outcome.out().resolve(SearchTables.text(run, "package_path")).getParent(), outcome.out());
      }
    });
  }

  /** Builds, evaluates and corrects plans. */
  private final class Planner {
    private final SearchSpec spec;
    private final SweepSpec sweep;
    private final List<SearchLayer> layers;
    private final List<LayerChoices> choices;
    private final Path searchDir;
    private final Path out;
    private final Launch launch;
    private final Budget.Metric metric;
    private final double baseline;
    private final long totalParams;
    private final long otherFileBytes;
    private final Map<String, SearchOutcome.PlanRow> evaluated = new HashMap<>();

    Planner(SearchSpec spec, SweepSpec sweep, List<SearchLayer> layers, List<LayerChoices> choices, Path searchDir,
        Path out, Launch launch, Budget.Metric metric, double baseline, long totalParams, long otherFileBytes) {
      this.spec = spec;
      this.sweep = sweep;
      this.layers = layers;
      this.choices = choices;
      this.searchDir = searchDir;
      this.out = out;
      this.launch = launch;
      this.metric = metric;
      this.baseline = baseline;
      this.totalParams = totalParams;
      this.otherFileBytes = otherFileBytes;
    }

    /**
     * Budget mode: solve for the smallest predicted plan, build and measure it; a miss tightens the predicted budget
     * by the miss (and below the missed plan's prediction), a hit with slack loosens it by the slack to look for a
     * smaller plan. The cheapest uniform candidate that meets the budget seeds one more round at its own predicted
     * loss, so the search never stops above a measured uniform config it could reproduce.
     */
    String searchBudget(MultipleChoiceKnapsack solver, List<SearchOutcome.PlanRow> plans,
        SearchOutcome.UniformRow cheapestUniform, double uniformPredictedLoss) {
      Budget budget = spec.budget();
      double trueMax = budget.maxLoss(baseline);
      double predictedMax = trueMax;
      SearchOutcome.PlanRow bestMet = null;
      long bestMetPredictedBytes = Long.MAX_VALUE; // compared with the solver's (predicted) sizes
      boolean seeded = false;
      for (int iteration = 1; iteration <= spec.maxIterations(); iteration++) {
        Optional<MultipleChoiceKnapsack.Solution> solution = solver.smallestWithin(predictedMax);
        boolean done = solution.isEmpty() || compressesNothing(solution.get())
            || solution.get().bytes() >= bestMetPredictedBytes
            || evaluated.containsKey(planId(solution.get()));
        if (done && !seeded && cheapestUniform != null
            && (bestMet == null || cheapestUniform.layerBytes() < bestMet.layerBytes())) {
          seeded = true;
          predictedMax = uniformPredictedLoss;
          console.printf(Locale.ROOT, "  seeding with the measured %s: predicted budget %s%n", cheapestUniform.configId(),
              fmt(predictedMax));
          iteration--;
          continue;
        }
        if (done) {
          if (bestMet != null) {
            return "met";
          }
          if (solution.isPresent() && evaluated.containsKey(planId(solution.get()))) {
            return "exhausted";
          }
          String note = solution.isPresent()
              ? "the candidates ran out: only the original model (no layer compressed) is predicted within the "
                  + (iteration == 1 ? "" : "tightened ") + "budget"
              : iteration == 1
                  ? "no plan is predicted within the budget (even the original model misses " + budget.describe()
                      + " against the baseline " + fmt(baseline) + ")"
                  : "the candidates ran out: no plan is predicted within the tightened budget";
          String status = solution.isEmpty() && iteration == 1 ? "infeasible" : "exhausted";
          plans.add(unfound(iteration, status, note, predictedMax));
          return status;
        }
        MultipleChoiceKnapsack.Solution s = solution.get();
        SearchOutcome.PlanRow row = evaluate(s, iteration, predictedMax);
        plans.add(row);
        if (row.status().equals("failed")) {
          return "failed";
        }
        double measuredLoss = Budget.loss(metric, baseline, row.measuredMetric());
        if (row.meetsBudget()) {
          bestMet = row;
          bestMetPredictedBytes = s.bytes();
          double slack = trueMax - measuredLoss;
          if (slack <= 0) {
            if (!seeded && cheapestUniform != null && cheapestUniform.layerBytes() < row.layerBytes()) {
              continue; // the next round sees done and seeds with the uniform config
            }
            return "met";
          }
          predictedMax = Math.max(predictedMax + slack, Math.nextUp(s.loss()));
          console.printf(Locale.ROOT, "  plan %s meets the budget with slack %s; predicted budget loosened to %s%n",
              row.planId(), fmt(slack), fmt(predictedMax));
        } else {
          double miss = measuredLoss - trueMax;
          predictedMax = Math.min(predictedMax - miss, Math.nextDown(s.loss()));
          console.printf(Locale.ROOT, "  plan %s missed the budget (measured %s); predicted budget tightened to %s%n",
              row.planId(), fmt(row.measuredMetric()), fmt(predictedMax));
        }
      }
      return bestMet != null ? "met" : "iterations";
    }

    String searchCap(MultipleChoiceKnapsack solver, List<SearchOutcome.PlanRow> plans) {
      SearchSpec.SizeCap cap = spec.sizeCap();
      long capBytes = cap.bitsPerWeight() != null ? (long) Math.floor(cap.bitsPerWeight() * totalParams / 8)
          : cap.bytes() - otherFileBytes;
      for (int iteration = 1; iteration <= spec.maxIterations(); iteration++) {
        Optional<MultipleChoiceKnapsack.Solution> solution = solver.bestWithin(capBytes);
        if (solution.isEmpty()) {
          plans.add(unfound(iteration, iteration == 1 ? "infeasible" : "exhausted",
              "no plan fits the size cap " + capText(cap) + " (the smallest is larger)", Double.NaN));
          return iteration == 1 ? "infeasible" : "exhausted";
        }
        SearchOutcome.PlanRow row = evaluate(solution.get(), iteration, Double.NaN);
        plans.add(row);
        if (row.status().equals("failed") || row.meetsBudget()) {
          return row.status().equals("failed") ? "failed" : "met";
        }
        if (cap.bytes() == null || row.compressedBytes() == null) {
          return "exhausted"; // bits per weight are exact: a plan within the cap always fits it
        }
        capBytes -= row.compressedBytes() - cap.bytes(); // the package's own overhead was underestimated
      }
      return "iterations";
    }

    private String planId(MultipleChoiceKnapsack.Solution s) {
      StringBuilder identity = new StringBuilder();
      List<LayerChoices.Option> options = s.options(choices);
      for (int i = 0; i < options.size(); i++) {
        identity.append(layers.get(i).layer().name()).append('=').append(options.get(i).candidate()).append(';');
      }
      return "plan-" + hash(identity.toString()).substring(0, 10);
    }

    private boolean compressesNothing(MultipleChoiceKnapsack.Solution s) {
      return s.options(choices).stream().allMatch(o -> o.candidate().equals(FP32));
    }

    private SearchOutcome.PlanRow unfound(int iteration, String status, String note, double predictedMax) {
      console.println("  " + note);
      return new SearchOutcome.PlanRow("none", iteration, status, note, Double.NaN, null, predictedMax, false, null,
          null, null, null, null, Map.of(), null, null, null);
    }

    private SearchOutcome.PlanRow evaluate(MultipleChoiceKnapsack.Solution s, int iteration, double predictedMax) {
      List<LayerChoices.Option> options = s.options(choices);
      Map<String, Map<String, Object>> assignment = new LinkedHashMap<>();
      Map<String, Map<String, Object>> compressed = new LinkedHashMap<>();
      Map<String, Integer> perCandidate = new TreeMap<>();
      StringBuilder identity = new StringBuilder();
      for (int i = 0; i < options.size(); i++) {
        SearchLayer sl = layers.get(i);
        String candidate = options.get(i).candidate();
        perCandidate.merge(candidate, 1, Integer::sum);
        identity.append(sl.layer().name()).append('=').append(candidate).append(';');
        Map<String, Object> fields = candidate.equals(FP32) ? null
            : sl.candidates().stream().filter(c -> c.id().equals(candidate)).findFirst().orElseThrow().config().fields();
        assignment.put(sl.layer().name(), fields);
        if (fields != null) {
          compressed.put(sl.layer().name(), fields);
        }
      }
      String planId = planId(s);
      double predictedMetric = Budget.metricOf(metric, baseline, s.loss());
      double bitsPerWeight = 8.0 * s.bytes() / totalParams;
      SearchOutcome.PlanRow earlier = evaluated.get(planId);
      if (earlier != null) {
        return earlier;
      }
      Path planDir = searchDir.resolve(planId);
      Path specFile = planDir.resolve("spec.yaml");
      writeText(specFile, PlanSpecWriter.write(header(sweep, sweep.name() + "-" + planId, planDir), planId, assignment));
      CoremlConfigWriter.Result coreml = CoremlConfigWriter.write(compressed, sweep.weightThreshold());
      List<String> coremlPaths = new ArrayList<>();
      coreml.files().forEach((name, text) -> {
        writeText(planDir.resolve(name), text);
        coremlPaths.add(out.relativize(planDir.resolve(name)).toString());
      });
      if (!coreml.notExpressible().isEmpty()) {
        StringBuilder notes = new StringBuilder("Layers no coremltools OptimizationConfig can express:\n");
        coreml.notExpressible().forEach((layer, why) -> notes.append("- ").append(layer).append(": ").append(why).append('\n'));
        writeText(planDir.resolve("coremltools-not-expressible.txt"), notes.toString());
      }
      console.printf(Locale.ROOT, "  iteration %d: plan %s, predicted %s %s at %.3f bits/weight %s; building it%n",
          iteration, planId, metric.label(), fmt(predictedMetric), bitsPerWeight, perCandidate);
      SweepOutcome outcome = new SweepRunner(console).run(specFile, launch);
      GenericRecord run = SearchTables.read(outcome.out(), "runs", outcome.sweepId()).stream()
          .filter(r -> planId.equals(SearchTables.text(r, "config_id"))).findFirst().orElse(null);
      String specPath = out.relativize(specFile).toString();
      SearchOutcome.PlanRow row;
      if (run == null || !"ok".equals(SearchTables.text(run, "status"))) {
        String error = run == null ? "the plan's sweep wrote no run row" : SearchTables.text(run, "error");
        row = new SearchOutcome.PlanRow(planId, iteration, "failed", error, predictedMetric, null, predictedMax, false,
            null, bitsPerWeight, null, null, null, perCandidate, null, specPath, String.join(",", coremlPaths));
      } else {
        Double measured = metricValue(run, metric);
        Long packageBytes = SearchTables.integer(run, "compressed_bytes");
        // measured sizes: encodings of one model share decode constants, so layer bytes are not exactly additive
        long layerBytes = 0;
        for (GenericRecord layerRow : SearchTables.read(outcome.out(), "layers", outcome.sweepId())) {
          if (planId.equals(SearchTables.text(layerRow, "config_id"))) {
            Long bytes = SearchTables.integer(layerRow, "compressed_bytes");
            layerBytes += bytes != null ? bytes : SearchTables.integer(layerRow, "original_bytes");
          }
        }
        for (int i = 0; i < options.size(); i++) {
          if (options.get(i).candidate().equals(FP32)) {
            layerBytes += options.get(i).bytes();
          }
        }
        double measuredBits = 8.0 * layerBytes / totalParams;
        boolean meets = measured != null && SearchRunner.meets(spec, baseline, measured, measuredBits, packageBytes);
        row = new SearchOutcome.PlanRow(planId, iteration, meets ? "met" : "missed", null, predictedMetric, measured,
            predictedMax, meets, measuredBits, bitsPerWeight, layerBytes, packageBytes,
            SearchTables.number(run, "size_ratio"), perCandidate, SearchTables.text(run, "package_path"), specPath,
            String.join(",", coremlPaths));
        console.printf(Locale.ROOT, "  plan %s: measured %s %s (predicted %s), %.3f bits/weight: %s%n", planId,
            metric.label(), fmt(measured), fmt(predictedMetric), measuredBits, meets ? "meets the budget" : "misses");
      }
      evaluated.put(planId, row);
      return row;
    }
  }

  static boolean meets(SearchSpec spec, double baseline, double measured, Double bitsPerWeight, Long packageBytes) {
    if (spec.budget() != null) {
      return spec.budget().isMetBy(baseline, measured);
    }
    SearchSpec.SizeCap cap = spec.sizeCap();
    return cap.bitsPerWeight() != null ? bitsPerWeight != null && bitsPerWeight <= cap.bitsPerWeight()
        : packageBytes != null && packageBytes <= cap.bytes();
  }

  private static String capText(SearchSpec.SizeCap cap) {
    return cap.bitsPerWeight() != null ? cap.bitsPerWeight() + " bits/weight" : cap.bytes() + " bytes";
  }

  private static boolean[] markFrontier(List<SearchOutcome.PlanRow> plans, List<SearchOutcome.UniformRow> uniforms,
      Budget.Metric metric) {
    int n = plans.size() + uniforms.size();
    double[] size = new double[n];
    double[] value = new double[n];
    for (int i = 0; i < plans.size(); i++) {
      SearchOutcome.PlanRow p = plans.get(i);
      boolean measured = p.measuredMetric() != null && p.bitsPerWeight() != null;
      size[i] = measured ? p.bitsPerWeight() : Double.NaN;
      value[i] = measured ? p.measuredMetric() : Double.NaN;
    }
    for (int j = 0; j < uniforms.size(); j++) {
      SearchOutcome.UniformRow u = uniforms.get(j);
      boolean measured = u.metric() != null && u.bitsPerWeight() != null;
      size[plans.size() + j] = measured ? u.bitsPerWeight() : Double.NaN;
      value[plans.size() + j] = measured ? u.metric() : Double.NaN;
    }
    return ParetoFrontier.mark(size, value, metric.higherIsBetter());
  }

  private static void writePlanTables(Path out, String searchId, SearchSpec spec, Budget.Metric metric, double baseline,
      List<SearchOutcome.PlanRow> plans, List<SearchOutcome.UniformRow> uniforms, boolean[] frontier) {
    String budget = spec.budget() != null ? spec.budget().describe() : "size_cap " + capText(spec.sizeCap());
    int iterations = plans.isEmpty() ? 0 : plans.get(plans.size() - 1).iteration();
    List<GenericRecord> planRows = new ArrayList<>();
    List<GenericRecord> frontierRows = new ArrayList<>();
    for (int i = 0; i < plans.size(); i++) {
      SearchOutcome.PlanRow p = plans.get(i);
      GenericRecord r = new GenericData.Record(SearchSchemas.PLANS);
      r.put("schema_version", ResultSchemas.VERSION);
      r.put("plan_id", p.planId());
      r.put("iteration", p.iteration());
      r.put("iterations", iterations);
      r.put("status", p.status());
      r.put("note", p.note());
      r.put("budget", budget);
      r.put("metric_name", metric.label());
      r.put("baseline_metric", metric == Budget.Metric.OUTPUT_SNR_DB ? null : baseline);
      r.put("predicted_metric", Double.isNaN(p.predictedMetric()) ? null : p.predictedMetric());
      r.put("measured_metric", p.measuredMetric());
      r.put("predicted_budget_loss", Double.isNaN(p.predictedBudgetLoss()) ? null : p.predictedBudgetLoss());
      r.put("meets_budget", p.meetsBudget());
      r.put("bits_per_weight", p.bitsPerWeight());
      r.put("predicted_bits_per_weight", p.predictedBitsPerWeight());
      r.put("layer_bytes", p.layerBytes());
      r.put("compressed_bytes", p.compressedBytes());
      r.put("size_ratio", p.sizeRatio());
      r.put("layers_per_candidate", new LinkedHashMap<>(p.layersPerCandidate()));
      r.put("package_path", p.packagePath());
      r.put("spec_path", p.specPath());
      r.put("coremltools_paths", p.coremltoolsPaths());
      r.put("on_frontier", frontier[i]);
      planRows.add(r);
      if (p.measuredMetric() != null) {
        frontierRows.add(frontierRow("plan", p.planId(), metric, p.measuredMetric(), p.bitsPerWeight(),
            p.compressedBytes(), p.meetsBudget(), frontier[i]));
      }
    }
    for (int j = 0; j < uniforms.size(); j++) {
      SearchOutcome.UniformRow u = uniforms.get(j);
      frontierRows.add(frontierRow("uniform", u.configId(), metric, u.metric(), u.bitsPerWeight(), u.compressedBytes(),
          u.meetsBudget(), frontier[plans.size() + j]));
    }
    SearchTables.write(out, "plans", searchId, SearchSchemas.PLANS, planRows);
    SearchTables.write(out, "frontier", searchId, SearchSchemas.FRONTIER, frontierRows);
  }

  private static GenericRecord frontierRow(String kind, String id, Budget.Metric metric, Double value, Double bits,
      Long bytes, boolean meets, boolean onFrontier) {
    GenericRecord r = new GenericData.Record(SearchSchemas.FRONTIER);
    r.put("schema_version", ResultSchemas.VERSION);
    r.put("kind", kind);
    r.put("config_id", id);
    r.put("metric_name", metric.label());
    r.put("metric", value);
    r.put("bits_per_weight", bits);
    r.put("compressed_bytes", bytes);
    r.put("meets_budget", meets);
    r.put("on_frontier", onFrontier);
    return r;
  }

  static String verdict(SearchSpec spec, SearchOutcome.PlanRow best, List<SearchOutcome.UniformRow> uniforms,
      String status) {
    SearchOutcome.UniformRow cheapest = uniforms.stream().filter(SearchOutcome.UniformRow::meetsBudget)
        .min((a, b) -> Double.compare(a.bitsPerWeight(), b.bitsPerWeight())).orElse(null);
    if (best == null) {
      return String.format(Locale.ROOT, "search %s: no measured plan meets the budget%s", status,
          cheapest == null ? " (nor does any uniform candidate)"
              : "; the uniform " + cheapest.configId() + " does, at " + fmt(cheapest.bitsPerWeight()) + " bits/weight");
    }
    String plan = String.format(Locale.ROOT, "plan %s meets the budget at %.4f bits/weight (measured %s)", best.planId(),
        best.bitsPerWeight(), fmt(best.measuredMetric()));
    if (cheapest == null) {
      return plan + "; no uniform candidate meets it";
    }
    double gap = best.bitsPerWeight() - cheapest.bitsPerWeight();
    String comparison = Math.abs(gap) < 1e-9 ? "equal to" : gap < 0 ? "fewer than" : "more than";
    return String.format(Locale.ROOT, "%s: %s the cheapest uniform config meeting it, %s at %.4f bits/weight%s", plan,
        comparison, cheapest.configId(), cheapest.bitsPerWeight(),
        Math.abs(gap) < 1e-9 ? " (uniform is optimal)" : "");
  }

  private Path writeReport(Path searchDir, String searchId, SearchSpec spec, Budget.Metric metric, double baseline,
      List<SearchOutcome.PlanRow> plans, List<SearchOutcome.UniformRow> uniforms, boolean[] frontier,
      String proxyReport, String verdict) {
    StringBuilder md = new StringBuilder("# search " + searchId + "\n\n");
    md.append("budget: ").append(spec.budget() != null ? spec.budget().describe() : "size_cap " + capText(spec.sizeCap()))
        .append("; baseline ").append(metric.label()).append(' ').append(fmt(baseline)).append("\n\n");
    md.append(verdict).append("\n\n| plan | iteration | status | predicted | measured | bits/weight | frontier | layers |\n|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < plans.size(); i++) {
      SearchOutcome.PlanRow p = plans.get(i);
      md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s |%n", p.planId(), p.iteration(),
          p.status(), fmt(p.predictedMetric()), fmt(p.measuredMetric()), fmt(p.bitsPerWeight()), frontier[i],
          p.layersPerCandidate()));
    }
    md.append("\n| uniform config | measured | bits/weight | meets | frontier |\n|---|---|---|---|---|\n");
    for (int j = 0; j < uniforms.size(); j++) {
      SearchOutcome.UniformRow u = uniforms.get(j);
      md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", u.configId(), fmt(u.metric()),
          fmt(u.bitsPerWeight()), u.meetsBudget(), frontier[plans.size() + j]));
    }
    md.append("\n```\n").append(proxyReport).append("```\n");
    Path report = searchDir.resolve("report.md");
    writeText(report, md.toString());
    return report;
  }

  /** Spearman of each proxy against the measured loss, per candidate and over all (layer, candidate) pairs. */
  static String proxyCorrelations(List<GenericRecord> rows) {
    Map<String, List<GenericRecord>> byCandidate = new TreeMap<>();
    for (GenericRecord r : rows) {
      if (r.get("loss") != null) {
        byCandidate.computeIfAbsent(SearchTables.text(r, "candidate"), k -> new ArrayList<>()).add(r);
        byCandidate.computeIfAbsent("(all pairs)", k -> new ArrayList<>()).add(r);
      }
    }
    StringBuilder text = new StringBuilder("  proxy rank correlation with the measured loss (Spearman; 1 = the proxy"
        + " orders layers exactly like the measurement):\n");
    byCandidate.forEach((candidate, list) -> text.append(String.format(Locale.ROOT,
        "    %-24s n=%3d  -weight_snr_db %s  output_error %s%n", candidate, list.size(),
        fmt(correlation(list, "weight_snr_db", -1)), fmt(correlation(list, "output_error", 1)))));
    return text.toString();
  }

  private static double correlation(List<GenericRecord> rows, String proxy, double sign) {
    List<double[]> pairs = new ArrayList<>();
    for (GenericRecord r : rows) {
      Double p = SearchTables.number(r, proxy);
      if (p != null && !p.isNaN()) {
        pairs.add(new double[] {sign * p, SearchTables.number(r, "loss")});
      }
    }
    if (pairs.size() < rows.size() || pairs.size() < 2) {
      return Double.NaN;
    }
    return RankCorrelation.spearman(pairs.stream().mapToDouble(p -> p[0]).toArray(),
        pairs.stream().mapToDouble(p -> p[1]).toArray());
  }

  private static GenericRecord sensitivityRow(SearchLayer sl, SearchSpec.Candidate c, Map<String, Object> m,
      Budget.Metric metric, double baseline, Double value, Double loss, long original, boolean cached) {
    GenericRecord r = new GenericData.Record(SearchSchemas.SENSITIVITY);
    r.put("schema_version", ResultSchemas.VERSION);
    r.put("layer", sl.layer().name());
    r.put("candidate", c.id());
    r.put("config_id", "s" + sl.index() + "-" + c.id());
    r.put("status", String.valueOf(m.get("status")));
    r.put("error", m.get("error") == null ? null : m.get("error").toString());
    r.put("params", sl.layer().params());
    r.put("original_bytes", original);
    Long bytes = m.get("layer_bytes") == null ? null : ((Number) m.get("layer_bytes")).longValue();
    r.put("compressed_bytes", bytes);
    r.put("layer_bits", bytes == null ? null : 8.0 * bytes / sl.layer().params());
    r.put("metric_name", metric.label());
    r.put("metric", value);
    r.put("baseline_metric", metric == Budget.Metric.OUTPUT_SNR_DB ? null : baseline);
    r.put("delta", value == null || metric == Budget.Metric.OUTPUT_SNR_DB ? null : value - baseline);
    r.put("loss", loss);
    r.put("weight_snr_db", number(m.get("weight_snr_db")));
    r.put("output_error", number(m.get("output_error")));
    r.put("cached", cached);
    return r;
  }

  private static double baseline(SearchSpec spec, List<SearchLayer> layers, SensitivityCache cache, Budget.Metric metric) {
    if (metric != Budget.Metric.ACCURACY && metric != Budget.Metric.PERPLEXITY) {
      return metric == Budget.Metric.OUTPUT_SNR_DB ? Double.POSITIVE_INFINITY : 1.0; // the original agrees with itself
    }
    String column = "baseline_" + metric.label();
    for (SearchSpec.Candidate c : spec.candidates()) {
      Optional<Map<String, Object>> m = cache.get(c.config().fields(), "*");
      if (m.isPresent() && m.get().get(column) instanceof Number n) {
        return n.doubleValue();
      }
    }
    throw new SweepRunner.SweepFailedException("no uniform candidate run reported the original model's "
        + metric.label() + "; see the runs table of the sensitivity sweep");
  }

  private static Budget.Metric defaultMetric(SweepSpec.Task task) {
    return switch (task) {
      case CLASSIFICATION -> Budget.Metric.ACCURACY;
      case AGREEMENT -> Budget.Metric.AGREEMENT;
      case EMBEDDING -> Budget.Metric.EMBEDDING_COSINE;
      case LANGUAGE_MODEL -> Budget.Metric.PERPLEXITY;
      default -> Budget.Metric.OUTPUT_SNR_DB;
    };
  }

  private static Double value(Map<String, Object> m, Budget.Metric metric) {
    return number(m.get(metric.label()));
  }

  private static Double metricValue(GenericRecord run, Budget.Metric metric) {
    return SearchTables.number(run, metric.label());
  }

  private static Double number(Object v) {
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof String s) {
      return Double.valueOf(s); // "Infinity" is kept as text in the JSON cache
    }
    return null;
  }

  private static Object finiteOrText(Double v) {
    return v == null ? null : v.isInfinite() || v.isNaN() ? v.toString() : v;
  }

  private static boolean fits(CompressionConfig config, Layer layer) {
    try {
      config.validateFor(layer.rows(), layer.cols());
      return true;
    } catch (ConfigException e) {
      return false;
    }
  }

  static long originalBytes(Layer layer) {
    int bytesPerElement = switch (layer.dataType()) {
      case dev.bitsweep.onnx.DataType.FLOAT16, dev.bitsweep.onnx.DataType.BFLOAT16 -> 2;
      case dev.bitsweep.onnx.DataType.DOUBLE -> 8;
      default -> 4;
    };
    return layer.params() * bytesPerElement;
  }

  /** The generated spec's top-level keys, its paths relative to the directory the spec is written to. */
  static Map<String, Object> header(SweepSpec sweep, String name, Path specDir) {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("name", name);
    header.put("model", relative(specDir, sweep.model()));
    header.put("task", task(sweep));
    header.put("eval_data", relative(specDir, sweep.evalData()));
    header.put("eval_samples", (long) sweep.evalSamples());
    header.put("batch_size", (long) sweep.batchSize());
    if (sweep.calibrationData() != null) {
      header.put("calibration_data", relative(specDir, sweep.calibrationData()));
      header.put("calibration_samples", (long) sweep.calibrationSamples());
    }
    header.put("weight_threshold", sweep.weightThreshold());
    return header;
  }

  /** The spec's task: its name, or a map with its fields when the spec gave any (e.g. a language model's input). */
  private static Object task(SweepSpec sweep) {
    Map<String, Object> fields = new LinkedHashMap<>();
    if (sweep.taskFields() != null) {
      sweep.taskFields().forEach((k, v) -> {
        if (!k.equals("task")) {
          fields.put(k.equals("class") ? "metric_class" : k, v);
        }
      });
    }
    if (sweep.labels() != null) {
      fields.put("labels", sweep.labels().toString());
    }
    if (fields.isEmpty()) {
      return sweep.task().label();
    }
    Map<String, Object> task = new LinkedHashMap<>();
    task.put("name", sweep.task().label());
    task.putAll(fields);
    return task;
  }

  private static String relative(Path dir, Path target) {
    return dir.toAbsolutePath().normalize().relativize(target.toAbsolutePath().normalize()).toString();
  }

  private static String key(SearchSpec.Candidate c, String layer) {
    return c.id() + "\u0000" + layer;
  }

  private static void deletePackage(Path packageDir, Path out) {
    if (!packageDir.toAbsolutePath().normalize().startsWith(out.resolve("packages"))) {
      return; // only ever delete inside the output's packages
    }
    try {
      SearchTables.deleteRecursively(packageDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the sensitivity package " + packageDir, e);
    }
  }

  static void writeText(Path file, String text) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  static String fmt(Double v) {
    return v == null || v.isNaN() ? "-" : String.format(Locale.ROOT, "%.4f", v);
  }

  static String hash(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
