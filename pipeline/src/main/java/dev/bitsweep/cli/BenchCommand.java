package dev.bitsweep.cli;

import dev.bitsweep.bench.CompressionBenchmark;
import dev.bitsweep.bench.ConcurrencyBenchmark;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Times the compression methods on one NxN Gaussian fp32 weight (fixed seed) and prints one line per",
        "config: config, median seconds, weight SNR dB, bits per weight."})
final class BenchCommand implements Callable<Integer> {
  @Spec
  CommandSpec command;

  @Option(names = "--size", defaultValue = "4096", description = "N (default 4096).")
  int size;

  @Option(names = "--json", description = "JSON lines with keys config, seconds, snr_db, bits_per_weight.")
  boolean json;

  @Option(names = "--calibration", description = {"Also time GPTQ 4-bit g128 and SparseGPT 50% on the NxN layer with a",
      "Hessian from --tokens synthetic correlated tokens, with their output error against round-to-nearest / magnitude."})
  boolean calibration;

  @Option(names = "--tokens", defaultValue = "8192", description = "Calibration tokens for --calibration (default 8192).")
  int tokens;

  @Option(names = "--concurrency", paramLabel = "COPIES", description = {"Instead: time one single-threaded compression",
      "task (6-bit k-means per 2-channel group on a 1024x2048 weight) alone and COPIES of it at once (median of 3",
      "rounds): what this machine gives side-by-side tasks, the ceiling of a cluster speed-up."})
  Integer concurrency;

  @Option(names = "--eval", paramLabel = "MODEL", description = {"Instead: evaluation throughput (samples/s) of bitsweep's",
      "ModelRunner on MODEL.onnx over --eval-data against a plain ONNX Runtime Java loop (same settings, --batch, --threads;",
      "median of 15 alternating passes each)."})
  java.nio.file.Path evalModel;

  @Option(names = "--eval-data", paramLabel = "DIR", description = "Data for --eval: one <input>.npy per model input (default: eval/ beside MODEL).")
  java.nio.file.Path evalData;

  @Option(names = "--spec", paramLabel = "SPEC", description = {"For --eval: feed the model's inputs as this sweep spec's",
      "'inputs:' says (values, batch_axis, states carried through sequences; --batch then counts sequences)."})
  java.nio.file.Path spec;

  @Option(names = "--batch", defaultValue = "32", description = "Batch size for --eval (default 32).")
  int batch;

  @Option(names = "--threads", defaultValue = "1", description = "ONNX Runtime intra-op threads for --eval (default 1).")
  int threads;

  @Option(names = "--sweep-size", paramLabel = "COUNT", description = {"Instead: generate an LLM-shaped model of about",
      "COUNT parameters (125M, 350M, 1.3B; external data) and sweep it on embedded Flink (int8 per channel, int4",
      "block 32; --kmeans adds k-means 4-bit g16), printing wall time per stage, peak heap and peak process RSS."})
  String sweepSize;

  @Option(names = "--sweep-dir", paramLabel = "DIR",
      description = "Where --sweep-size writes the model and the sweep (new or empty; default bitsweep-bench/COUNT).")
  java.nio.file.Path sweepDir;

  @Option(names = "--vocab", defaultValue = "32000", description = "Vocabulary of the --sweep-size model (default 32000).")
  int vocab;

  @Option(names = "--sequences", defaultValue = "32", description = "Eval sequences for --sweep-size (default 32).")
  int sequences;

  @Option(names = "--sequence-length", defaultValue = "128", description = "Tokens per sequence (default 128).")
  int sequenceLength;

  @Option(names = "--kmeans", description = "Add k-means 4-bit per grouped channel (g16) to the --sweep-size configs.")
  boolean kmeans;

  @Option(names = "--overhead", paramLabel = "DIR", description = {"Instead: the fixed cost of a sweep on embedded Flink:",
      "a trivial 1-config sweep of DIR/model.onnx over DIR/eval (e.g. calibration-data/digits) run --runs times in this",
      "JVM, phase by phase (JVM start, planning, job incl. MiniCluster start and submission, publishing + report)."})
  java.nio.file.Path overhead;

  @Option(names = "--runs", defaultValue = "5", description = "Sweeps for --overhead (default 5).")
  int runs;

  @Override
  public Integer call() throws Exception {
    if (sweepSize != null) {
      return sweepBench();
    }
    if (overhead != null) {
      if (runs < 1) {
        throw new CommandLine.ParameterException(command.commandLine(), "--runs must be >= 1, got " + runs);
      }
      java.nio.file.Path work = java.nio.file.Files.createTempDirectory("bitsweep-overhead");
      System.out.print(dev.bitsweep.pipeline.OverheadBenchmark.run(overhead, work, runs, true));
      return ExitCodes.OK;
    }
    if (evalModel != null) {
      if (batch < 1 || threads < 1) {
        throw new CommandLine.ParameterException(command.commandLine(), "--batch and --threads must be >= 1");
      }
      java.nio.file.Path data = evalData != null ? evalData : evalModel.toAbsolutePath().getParent().resolve("eval");
      var feeds = spec == null ? java.util.Map.<String, dev.bitsweep.data.InputFeed>of()
          : dev.bitsweep.spec.InputSpecs.read(spec);
      System.out.println(dev.bitsweep.bench.EvaluationBenchmark.run(evalModel, data, feeds, batch, threads, 15)
          .format(json));
      return ExitCodes.OK;
    }
    if (concurrency != null) {
      if (concurrency < 2) {
        throw new CommandLine.ParameterException(command.commandLine(), "--concurrency must be >= 2, got " + concurrency);
      }
      System.out.println(ConcurrencyBenchmark.format(ConcurrencyBenchmark.run(1024, 2048, concurrency, 3)));
      return ExitCodes.OK;
    }
    List<String> args = new ArrayList<>(List.of("--size", Integer.toString(size)));
    if (json) {
      args.add("--json");
    }
    CompressionBenchmark.main(args.toArray(String[]::new));
    if (calibration) {
      List<String> calibrationArgs = new ArrayList<>(List.of("--size", Integer.toString(size), "--tokens", Integer.toString(tokens)));
      if (json) {
        calibrationArgs.add("--json");
      }
      dev.bitsweep.bench.CalibrationBenchmark.main(calibrationArgs.toArray(String[]::new));
    }
    return ExitCodes.OK;
  }

  private int sweepBench() throws Exception {
    dev.bitsweep.lm.LlmShape shape;
    try {
      shape = dev.bitsweep.lm.LlmShape.forParams(dev.bitsweep.lm.LlmShape.parseParams(sweepSize), vocab);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(command.commandLine(), "--sweep-size: " + e.getMessage());
    }
    if (sequences < 1 || sequenceLength < 2) {
      throw new CommandLine.ParameterException(command.commandLine(),
          "--sequences must be >= 1 and --sequence-length >= 2");
    }
    java.nio.file.Path dir = sweepDir != null ? sweepDir : java.nio.file.Path.of("bitsweep-bench", sweepSize);
    if (java.nio.file.Files.exists(dir)) {
      try (var entries = java.nio.file.Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new CommandLine.ParameterException(command.commandLine(), "--sweep-dir " + dir
              + " is not empty; give a new or empty directory (nothing was written)");
        }
      } catch (java.nio.file.NotDirectoryException e) {
        throw new CommandLine.ParameterException(command.commandLine(), "--sweep-dir " + dir + " is a file");
      }
    }
    SweepBench.Result result = SweepBench.run(shape, dir, sequences, sequenceLength, kmeans, System.out);
    System.out.print(result.format());
    return result.runs().stream().allMatch(r -> "ok".equals(r.status())) ? ExitCodes.OK : 1;
  }
}
