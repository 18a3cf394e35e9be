package dev.bitsweep.search;

import java.nio.file.Path;
import java.util.List;

/**
 * A finished search.
 *
 * @param status met (a measured plan meets the budget / fits the cap), infeasible (no plan is predicted within it),
 *     exhausted (every tightened budget was missed until only the original model was left) or iterations (the
 *     correction rounds ran out)
 * @param best the measured plan that meets the budget, or null
 * @param verdict how the plan compares with the cheapest uniform candidate that meets the budget
 * @param report the Markdown report ({@code search/<id>/report.md})
 * @param htmlReport the HTML report with the plans and uniform configs on one chart ({@code reports/<id>.html})
 */
public record SearchOutcome(String searchId, Path out, String status, PlanRow best, List<PlanRow> plans,
    List<UniformRow> uniforms, String verdict, Path report, Path htmlReport) {

  public boolean met() {
    return "met".equals(status);
  }

  /** One evaluated (or unfound) plan. */
  public record PlanRow(String planId, int iteration, String status, String note, double predictedMetric,
      Double measuredMetric, double predictedBudgetLoss, boolean meetsBudget, Double bitsPerWeight,
      Double predictedBitsPerWeight, Long layerBytes,
      Long compressedBytes, Double sizeRatio, java.util.Map<String, Integer> layersPerCandidate, String packagePath,
      String specPath, String coremltoolsPaths) {}

  /** A uniform candidate config measured in the sensitivity sweep. */
  public record UniformRow(String configId, String candidate, String status, Double metric, Double bitsPerWeight,
      Long layerBytes, Long compressedBytes, boolean meetsBudget) {}
}
