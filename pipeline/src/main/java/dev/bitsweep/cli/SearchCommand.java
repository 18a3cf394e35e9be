package dev.bitsweep.cli;

import dev.bitsweep.search.SearchOutcome;
import dev.bitsweep.search.SearchRunner;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
    name = "search",
    mixinStandardHelpOptions = true,
    description = {
      "Finds the smallest mixed-precision plan that meets a metric budget (or the best one under a size cap), from a",
      "spec with a 'search:' section, and verifies it by building and evaluating it:",
      "  1. sensitivity: one sweep with a config per (layer, candidate), only that layer compressed (cached in",
      "     <out>/.cache/sensitivity), plus each candidate uniformly;",
      "  2. predict (summed per-layer losses), solve exactly, build the plan as a sweep of its emitted spec, measure;",
      "     a plan that misses tightens the predicted budget by the miss and is solved again.",
      "Writes sensitivity/, plans/ and frontier/ (partition sweep_id=<search id>) and, per plan,",
      "search/<search id>/<plan id>/spec.yaml (reproduces it) and coremltools-*.yaml (OptimizationConfig).",
      "Exit codes: 0 a measured plan meets the budget, 1 none does (the plans table says why) or a job failed,",
      "2 bad input."
    })
final class SearchCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "SPEC", description = "A spec with a search: section, e.g. calibration-data/fashion-mnist/mixed.yaml")
  Path spec;

  @Mixin
  LaunchOptions launchOptions;

  @Override
  public Integer call() {
    SearchOutcome outcome = new SearchRunner(System.out).run(spec, launchOptions.launch());
    System.out.println();
    System.out.println(outcome.verdict());
    if (outcome.best() != null) {
      System.out.println("plan:     " + outcome.out().resolve(outcome.best().specPath()));
      System.out.println("package:  " + outcome.out().resolve(outcome.best().packagePath()));
    }
    System.out.println("results:  " + outcome.out().resolve("plans") + ", " + outcome.out().resolve("sensitivity")
        + " and " + outcome.out().resolve("frontier") + " (partition sweep_id=" + outcome.searchId() + ")");
    System.out.println("report:   " + outcome.htmlReport() + " and " + outcome.report());
    return outcome.met() ? ExitCodes.OK : ExitCodes.FAILED;
  }
}
