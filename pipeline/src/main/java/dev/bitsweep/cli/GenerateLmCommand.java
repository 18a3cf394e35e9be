package dev.bitsweep.cli;

import dev.bitsweep.lm.LlmGenerator;
import dev.bitsweep.lm.LlmShape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "generate-lm", mixinStandardHelpOptions = true,
    description = {
      "Writes an LLM-shaped test model with random weights (fixed seed) into OUT_DIR: model.onnx + model.onnx.data",
      "(one external data file, tensors at 4 KiB offsets), eval/ and calibration/ token ids (input_ids.npy) and",
      "sweep.yaml. Token embedding [vocab, dim] (Gather), blocks of MatMul [dim, dim] x2 and [dim, 4 dim] + Relu +",
      "[4 dim, dim] with residual Adds and LayerNormalization, lm_head MatMul [dim, vocab]; opset 17. Weights are",
      "streamed to disk: any size works with a small heap. Random weights make perplexity meaningless; sizes,",
      "memory and work are real."
    })
final class GenerateLmCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "OUT_DIR", description = "Directory to write (must not exist or be empty).")
  Path out;

  @Option(names = "--params", paramLabel = "COUNT",
      description = "Choose a shape of about this many parameters, e.g. 125M, 350M, 1.3B (instead of --dim/--blocks).")
  String params;

  @Option(names = "--dim", description = "Model width d (default 1024 unless --params).")
  Integer dim;

  @Option(names = "--blocks", description = "Number of blocks (default 8 unless --params).")
  Integer blocks;

  @Option(names = "--vocab", defaultValue = "32000", description = "Vocabulary size (default 32000).")
  int vocab;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the weights and tokens (default 1).")
  long seed;

  @Option(names = "--sequence-length", defaultValue = "128", description = "Tokens per sequence (default 128).")
  int sequenceLength;

  @Option(names = "--eval-sequences", defaultValue = "32", description = "Eval sequences (default 32).")
  int evalSequences;

  @Option(names = "--calibration-sequences", defaultValue = "32", description = "Calibration sequences (default 32).")
  int calibrationSequences;

  @Option(names = "--batch-size", defaultValue = "4", description = "batch_size written into sweep.yaml (default 4).")
  int batchSize;

  @Override
  public Integer call() throws IOException {
    LlmShape shape = shape();
    if (sequenceLength < 2 || evalSequences < 1 || calibrationSequences < 1 || batchSize < 1) {
      throw bad("--sequence-length must be >= 2 and --eval-sequences, --calibration-sequences, --batch-size >= 1");
    }
    if (Files.exists(out)) {
      if (!Files.isDirectory(out)) {
        throw bad("OUT_DIR " + out + " is a file; give a new or empty directory");
      }
      try (Stream<Path> entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw bad("OUT_DIR " + out + " is not empty; give a new or empty directory (nothing was written)");
        }
      }
    }
    System.out.printf("generating dim %d, %d blocks, vocab %d: %,d parameters, %.1f MB of fp32 weights into %s%n",
        shape.dim(), shape.blocks(), shape.vocab(), shape.params(), shape.bytes() / 1e6, out);
    long start = System.nanoTime();
    Files.createDirectories(out);
    LlmGenerator.Written written = LlmGenerator.writeModel(shape, seed, out);
    double seconds = (System.nanoTime() - start) / 1e9;
    LlmGenerator.writeTokens(out.resolve("eval"), evalSequences, sequenceLength, shape.vocab(), seed + 1);
    LlmGenerator.writeTokens(out.resolve("calibration"), calibrationSequences, sequenceLength, shape.vocab(), seed + 2);
    String name = "llm-" + shape.dim() + "x" + shape.blocks() + "-v" + shape.vocab();
    LlmGenerator.writeSpec(out.resolve("sweep.yaml"), name, batchSize);
    System.out.printf("wrote %s (%,d bytes) and %s (%,d bytes) in %.1f s (%.0f MB/s); eval/ and calibration/ %d and"
            + " %d x %d tokens; %s%n", written.modelFile().getFileName(), written.modelBytes(),
        written.dataFile().getFileName(), written.dataBytes(), seconds, written.dataBytes() / 1e6 / seconds,
        evalSequences, calibrationSequences, sequenceLength, out.resolve("sweep.yaml"));
    return ExitCodes.OK;
  }

  private LlmShape shape() {
    try {
      if (params != null) {
        if (dim != null || blocks != null) {
          throw bad("give either --params or --dim/--blocks, not both");
        }
        return LlmShape.forParams(LlmShape.parseParams(params), vocab);
      }
      return new LlmShape(dim == null ? 1024 : dim, blocks == null ? 8 : blocks, vocab);
    } catch (IllegalArgumentException e) {
      throw bad(e.getMessage());
    }
  }

  private CommandLine.ParameterException bad(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }
}
