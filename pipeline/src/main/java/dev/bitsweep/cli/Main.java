package dev.bitsweep.cli;

import dev.bitsweep.pipeline.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The bitsweep command line. */
@Command(
    name = "bitsweep",
    mixinStandardHelpOptions = true,
    versionProvider = Main.VersionProvider.class,
    description = {
      "Compresses ONNX models layer by layer over a grid of configs (palettization, linear quantization, pruning),",
      "packages every config as a standard ONNX model, evaluates it against the original with ONNX Runtime and",
      "writes the results as Parquet tables (runs/ and layers/, Hive-partitioned by sweep_id)."
    },
    subcommands = {SweepCommand.class, LayersCommand.class, ReportCommand.class, BenchCommand.class, BenchClusterCommand.class,
        GenerateLmCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  public static int execute(String... args) {
    return new CommandLine(new Main()).setExecutionExceptionHandler(new ErrorHandler()).execute(args);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"bitsweep " + Version.get()};
    }
  }

  /** Bad input ends with one clear line and exit code 2; a failed job with exit code 1. */
  static final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult) {
      commandLine.getErr().println("bitsweep: error: " + e.getMessage());
      if (System.getenv("BITSWEEP_DEBUG") != null) {
        e.printStackTrace(commandLine.getErr());
      }
      return ExitCodes.of(e);
    }
  }
}
