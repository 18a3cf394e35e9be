package dev.bitsweep.pipeline;

import dev.bitsweep.spec.SweepSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The sweep's summary table, for people: printed on the console and saved as Markdown beside the results. */
public final class Report {
  private Report() {}

  /**
   * The quality column is perplexity when the rows have it (task language_model; agreement is then the top-1 next
   * token's), else accuracy or cosine.
   */
  public static String table(List<RunSummary> rows) {
    boolean perplexity = rows.stream().anyMatch(r -> r.perplexity() != null);
    StringBuilder table = new StringBuilder();
    table.append(String.format(Locale.ROOT, "| %-52s | %-6s | %9s | %6s | %8s | %9s | %9s |%n",
        "config_id", "status", "bits/wt", "size", perplexity ? "ppl" : "acc|cos", "agreement", "snr_db"));
    table.append(String.format(Locale.ROOT, "|%s|%s|%s|%s|%s|%s|%s|%n", "-".repeat(54), "-".repeat(8), "-".repeat(11),
        "-".repeat(8), "-".repeat(10), "-".repeat(11), "-".repeat(11)));
    for (RunSummary row : rows) {
      Double quality = perplexity ? row.perplexity()
          : row.accuracy() != null ? row.accuracy() : row.embeddingCosine();
      table.append(String.format(Locale.ROOT, "| %-52s | %-6s | %9s | %6s | %8s | %9s | %9s |%n",
          row.configId(), row.status(), fmt(row.bitsPerWeight(), "%.2f"), fmt(row.sizeRatio() == null ? null : row.sizeRatio() * 100, "%.1f%%"),
          fmt(quality, "%.4f"), fmt(perplexity ? row.tokenAgreement() : row.agreement(), "%.4f"), fmt(row.outputSnrDb(), "%.2f")));
    }
    return table.toString();
  }

  static Path write(Path out, String sweepId, SweepSpec spec, List<RunSummary> rows, double seconds) {
    return writeTo(out.resolve("reports").resolve(sweepId + ".md"), sweepId, spec, rows, seconds);
  }

  /** Writes the report to {@code report} (the staging area's, published with the tables). */
  static Path writeTo(Path report, String sweepId, SweepSpec spec, List<RunSummary> rows, double seconds) {
    StringBuilder text = new StringBuilder();
    text.append("# Sweep ").append(sweepId).append("\n\n");
    text.append("- spec: ").append(spec.specFile()).append('\n');
    text.append("- model: ").append(spec.model()).append('\n');
    text.append("- task: ").append(spec.task().label()).append('\n');
    text.append(String.format(Locale.ROOT, "- wall time: %.1f s%n", seconds));
    if (!rows.isEmpty() && rows.get(0).baselineAccuracy() != null) {
      text.append(String.format(Locale.ROOT, "- baseline accuracy (original model): %.4f%n", rows.get(0).baselineAccuracy()));
    }
    rows.stream().map(RunSummary::baselinePerplexity).filter(v -> v != null).findFirst().ifPresent(v -> text.append(
        String.format(Locale.ROOT, "- baseline perplexity (original model): %.4f%n", v)));
    text.append("\n").append(table(rows));
    for (RunSummary row : rows) {
      if (row.error() != null) {
        text.append("\n- ").append(row.configId()).append(": ").append(row.error());
      }
    }
    try {
      Files.createDirectories(report.getParent());
      Files.writeString(report, text.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report " + report, e);
    }
    return report;
  }

  private static String fmt(Double value, String format) {
    return value == null ? "-" : String.format(Locale.ROOT, format, value);
  }
}
