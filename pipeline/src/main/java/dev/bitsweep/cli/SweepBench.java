package dev.bitsweep.cli;

import dev.bitsweep.cluster.Launch;
import dev.bitsweep.lm.LlmGenerator;
import dev.bitsweep.lm.LlmShape;
import dev.bitsweep.pipeline.Progress;
import dev.bitsweep.pipeline.RunSummary;
import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A whole sweep of a generated LLM-shaped model, measured: wall time of generating the model and of the sweep, when
 * each stage's first and last task finished (from the sweep's progress markers, sampled every 100 ms), the peak heap
 * in use (sampled) and the process's peak resident set (the kernel's VmHWM). Not a timed test: numbers for people.
 */
final class SweepBench {
  static final List<String> STAGES = List.of("compress", "package", "evaluate");

  /** First and last time (seconds after the sweep started) a task of the stage finished, and how many did. */
  record Stage(double first, double last, long tasks) {}

  record Result(LlmShape shape, long modelBytes, double generateSeconds, double sweepSeconds, Map<String, Stage> stages,
      long peakHeapBytes, long peakRssBytes, long maxHeapBytes, List<RunSummary> runs) {
    String format() {
      StringBuilder text = new StringBuilder();
      text.append(String.format("model     dim %d x %d blocks, vocab %d: %,d parameters, %.1f MB with external data,"
          + " generated in %.1f s%n", shape.dim(), shape.blocks(), shape.vocab(), shape.params(), modelBytes / 1e6,
          generateSeconds));
      text.append(String.format("sweep     %.1f s wall on embedded Flink%n", sweepSeconds));
      for (Map.Entry<String, Stage> stage : stages.entrySet()) {
        Stage s = stage.getValue();
        text.append(String.format("  %-9s %4d tasks, first done at %.1f s, last at %.1f s%n", stage.getKey(), s.tasks(),
            s.first(), s.last()));
      }
      text.append(String.format("memory    peak heap %.0f MB of %.0f MB (sampled), peak RSS %.0f MB%n",
          peakHeapBytes / 1e6, maxHeapBytes / 1e6, peakRssBytes / 1e6));
      for (RunSummary run : runs) {
        text.append(String.format("  %-18s %s  size ratio %s%s%n", run.configId(), run.status(),
            run.sizeRatio() == null ? "-" : String.format("%.4f", run.sizeRatio()),
            run.error() == null ? "" : "  " + run.error()));
      }
      return text.toString();
    }
  }

  private SweepBench() {}

  /**
   * @param dir a new or empty directory: the model, its eval tokens, the spec and the sweep's output go there
   */
  static Result run(LlmShape shape, Path dir, int sequences, int length, boolean kmeans, PrintStream console)
      throws IOException, InterruptedException {
    long start = System.nanoTime();
    Path modelDir = Files.createDirectories(dir.resolve("model"));
    LlmGenerator.Written written = LlmGenerator.writeModel(shape, 1, modelDir);
    LlmGenerator.writeTokens(Files.createDirectories(modelDir.resolve("eval")), sequences, length, shape.vocab(), 2);
    double generateSeconds = (System.nanoTime() - start) / 1e9;
    Path spec = dir.resolve("sweep.yaml");
    Files.writeString(spec, spec(kmeans), StandardCharsets.UTF_8);

    Path out = dir.resolve("out");
    Sampler sampler = new Sampler(out);
    sampler.start();
    long sweepStart = System.nanoTime();
    SweepOutcome outcome;
    try {
      outcome = new SweepRunner(console).run(spec, Launch.embedded().withOut(out));
    } finally {
      sampler.interrupt();
      sampler.join();
    }
    double sweepSeconds = (System.nanoTime() - sweepStart) / 1e9;
    return new Result(shape, Files.size(written.modelFile()) + Files.size(written.dataFile()), generateSeconds,
        sweepSeconds, sampler.stages(sweepStart), sampler.peakHeap, peakRss(), Runtime.getRuntime().maxMemory(),
        outcome.runs());
  }

  static String spec(boolean kmeans) {
    String configs = """
        configs:
          - id: int8-per-channel
            method: linear_quantize
            mode: linear_symmetric
            dtype: int8
            granularity: per_channel
          - id: int4-block32
            method: linear_quantize
            mode: linear_symmetric
            dtype: int4
            granularity: per_block
            block_size: 32
        """;
    if (kmeans) {
      configs += """
            - id: kmeans-4bit-g16
              method: palettize
              mode: kmeans
              nbits: 4
              granularity: per_grouped_channel
              group_size: 16
          """;
    }
    return "name: bench\nmodel: model/model.onnx\ntask: embedding\neval_data: model/eval\nbatch_size: 4\n" + configs;
  }

  /** The process's peak resident set size (VmHWM in /proc/self/status), or -1 where there is none. */
  static long peakRss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return -1;
  }

  /** Samples the heap in use and the progress markers of the sweep's staging areas every 100 ms. */
  private static final class Sampler extends Thread {
    private final Path out;
    private final Map<String, Long> counts = new LinkedHashMap<>();
    private final Map<String, Long> first = new LinkedHashMap<>();
    private final Map<String, Long> last = new LinkedHashMap<>();
    volatile long peakHeap;

    Sampler(Path out) {
      super("bench-sampler");
      setDaemon(true);
      this.out = out;
    }

    @Override
    public void run() {
      while (!isInterrupted()) {
        sample();
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          break;
        }
      }
      sample();
    }

    private synchronized void sample() {
      peakHeap = Math.max(peakHeap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
      long now = System.nanoTime();
      for (String stage : STAGES) {
        long count = 0;
        for (Path staging : stagingAreas()) {
          count += Progress.count(staging, stage);
        }
        if (count > counts.getOrDefault(stage, 0L)) {
          counts.put(stage, count);
          first.putIfAbsent(stage, now);
          last.put(stage, now);
        }
      }
    }

    private List<Path> stagingAreas() {
      Path root = out.resolve(".staging");
      if (!Files.isDirectory(root)) {
        return List.of();
      }
      try (Stream<Path> list = Files.list(root)) {
        return new ArrayList<>(list.toList());
      } catch (IOException e) {
        return List.of();
      }
    }

    synchronized Map<String, Stage> stages(long startNanos) {
      Map<String, Stage> stages = new LinkedHashMap<>();
      for (String stage : STAGES) {
        if (counts.containsKey(stage)) {
          stages.put(stage, new Stage((first.get(stage) - startNanos) / 1e9, (last.get(stage) - startNanos) / 1e9,
              counts.get(stage)));
        }
      }
      return stages;
    }
  }
}
