package dev.bitsweep.cli;

import dev.bitsweep.report.HtmlReport;
import dev.bitsweep.report.SweepResults;
import dev.bitsweep.spec.SpecException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "report", mixinStandardHelpOptions = true,
    description = {"Writes the HTML sweep report (OUT/reports/<sweep_id>.html: Pareto plot, per-layer heatmap, tables)",
        "from the Parquet tables in OUT alone (and the package manifests, when they are there).",
        "Without --sweep or --compare: a report for every sweep in OUT."})
final class ReportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "OUT", description = "A sweep's output directory (the one holding runs/ and layers/).")
  Path out;

  @Option(names = "--sweep", paramLabel = "ID", description = "The sweep to report on.")
  String sweep;

  @Option(names = "--compare", paramLabel = "ID", arity = "2..*",
      description = "Overlays several sweeps of the same model in one report (OUT/reports/compare-<id>+<id>....html).")
  List<String> compare;

  @Override
  public Integer call() {
    if (!Files.isDirectory(out)) {
      throw new SpecException("report: " + out + " is not a directory; give the --out directory of a sweep");
    }
    if (sweep != null && compare != null) {
      throw new SpecException("report: give --sweep ID or --compare ID ID..., not both");
    }
    List<Path> written;
    if (compare != null) {
      written = List.of(HtmlReport.writeComparison(out, compare));
    } else if (sweep != null) {
      written = List.of(HtmlReport.write(out, sweep));
    } else {
      List<String> ids = SweepResults.sweepIds(out);
      if (ids.isEmpty()) {
        throw new SpecException("report: " + out + " holds no sweep results (no runs/sweep_id=*/ directory);"
            + " give the --out directory of a sweep");
      }
      written = ids.stream().map(id -> HtmlReport.write(out, id)).toList();
    }
    written.forEach(path -> System.out.println("report: " + path.toAbsolutePath().normalize()));
    return ExitCodes.OK;
  }
}
