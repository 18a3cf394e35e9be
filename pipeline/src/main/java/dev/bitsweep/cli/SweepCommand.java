package dev.bitsweep.cli;

import dev.bitsweep.cluster.Launch;
import dev.bitsweep.pipeline.Report;
import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the sweep a YAML spec describes and publishes its results under the output directory:",
      "  runs/sweep_id=<id>/*.parquet    one row per config",
      "  layers/sweep_id=<id>/*.parquet  one row per (config, layer)",
      "  packages/<sweep_id>/<config_id>/model.onnx + manifest.json",
      "  reports/<sweep_id>.md",
      "Results are published only when the whole job succeeded, all or nothing; rerunning the same sweep replaces them.",
      "An interrupted sweep resumes: rerun the same command and finished layers and evaluation batches are reused",
      "(kept in <out>/.cache/resume/<sweep_id>/ until the sweep is published); --fresh recomputes everything.",
      "On a Flink cluster (--flink-master HOST:PORT) the job jar is uploaded, the job id and web UI are printed, and",
      "every path in the spec must be readable by every TaskManager (shared filesystem; see deploy/README.md).",
      "Exit codes: 0 done, 1 the job or some configs failed, 2 bad input."
    })
final class SweepCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec command;

  @Parameters(index = "0", paramLabel = "SPEC", description = "The sweep spec (YAML), e.g. calibration-data/digits/sweep.yaml")
  Path spec;

  @Mixin
  LaunchOptions launchOptions;

  @Option(names = "--eval-memory", paramLabel = "SIZE",
      description = {"Native memory the evaluation's ONNX Runtime sessions may take in each worker JVM, e.g. 6g or 512m",
          "(default: (physical memory - max heap) x 3/4 of the worker). A session is charged the original model's size",
          "plus its package's; a package whose session cannot fit is its config's error."})
  String evalMemory;

  @Option(names = "--fresh", description = "Recompute everything, ignoring what an interrupted run of the same sweep finished.")
  boolean fresh;

  @Override
  public Integer call() {
    Launch launch = launchOptions.launch();
    if (dev.bitsweep.spec.SweepSpec.read(spec).configs().isEmpty()) { // only a search: section
      throw new dev.bitsweep.spec.SpecException(spec + ": this spec has a search: section and no configs; run"
          + " `bitsweep search " + spec + "`");
    }
    long evalMemoryBytes;
    try {
      evalMemoryBytes = evalMemory == null ? 0 : dev.bitsweep.pipeline.EvalMemory.parse(evalMemory);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(command.commandLine(), "--eval-memory: " + e.getMessage());
    }
    SweepOutcome outcome = new SweepRunner(System.out).fresh(fresh).evalMemory(evalMemoryBytes).run(spec, launch);
    System.out.println();
    System.out.print(Report.table(outcome.runs()));
    System.out.printf(Locale.ROOT, "%nsweep %s finished in %.1f s: %d configs, %d failed%n", outcome.sweepId(),
        outcome.seconds(), outcome.runs().size(), outcome.failedConfigs());
    System.out.println(outcome.overhead().format());
    System.out.println("results:  " + outcome.out().resolve("runs") + " and " + outcome.out().resolve("layers")
        + " (partition sweep_id=" + outcome.sweepId() + ")");
    System.out.println("packages: " + outcome.out().resolve("packages").resolve(outcome.sweepId()));
    System.out.println("report:   " + outcome.report());
    if (outcome.flinkJobId() != null) {
      System.out.println("flink job: " + outcome.flinkJobId() + " on " + launchOptions.flinkMaster);
    }
    outcome.runs().stream().filter(r -> r.error() != null)
        .forEach(r -> System.out.println("failed " + r.configId() + ": " + r.error()));
    return outcome.failedConfigs() == 0 ? ExitCodes.OK : ExitCodes.FAILED;
  }
}
