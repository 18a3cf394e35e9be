package dev.bitsweep.compress;

import dev.bitsweep.bench.CompressionBenchmark;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmarks of the k-means kernels on N(0, 1) weights of 1 M (1024 x 1024) and 16 M (4096 x 4096) values:
 * whole-layer palettization per tensor and per 16-channel group, the 1-D k-means of one group alone (16 rows;
 * 4- and 2-bit) and, for comparison, the exact DP over all of that group's sorted values, each for fp32 weights
 * and for weights that fp16 holds exactly. Run with {@code bin/bitsweep-jmh} (README).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xmx4g", "-XX:+UseParallelGC"})
public class KMeansBenchmark {
  @Param({"1024", "4096"})
  int size;

  @Param({"fp32", "fp16"})
  String input;

  private WeightMatrix weights;
  private PalettizeConfig perTensor4;
  private PalettizeConfig grouped4;
  private PalettizeConfig grouped2;

  @Setup(Level.Trial)
  public void setUp() {
    weights = CompressionBenchmark.gaussian(size, size, 20261125L);
    if (input.equals("fp16")) {
      float[] values = weights.values();
      for (int i = 0; i < values.length; i++) {
        values[i] = Float16.round(values[i]);
      }
    }
    perTensor4 = PalettizeConfig.kmeans(4);
    grouped4 = PalettizeConfig.builder().nbits(4).perGroupedChannel(16).build();
    grouped2 = PalettizeConfig.builder().nbits(2).perGroupedChannel(16).build();
  }

  @Benchmark
  public PalettizedWeights palettize4BitPerTensor() {
    return Palettizer.palettize(perTensor4, weights);
  }

  @Benchmark
  public PalettizedWeights palettize4BitGroup16() {
    return Palettizer.palettize(grouped4, weights);
  }

  @Benchmark
  public PalettizedWeights palettize2BitGroup16() {
    return Palettizer.palettize(grouped2, weights);
  }

  /** The table of the first 16-row group: histogram, windows, sort and DP of the rest, one thread, no indices. */
  @Benchmark
  public double[] kmeans4BitOneGroup() {
    return OptimalKMeans1D.centroids(weights.values(), 0, 16 * size, null, 16);
  }

  /** The same for a 2-bit table. */
  @Benchmark
  public double[] kmeans2BitOneGroup() {
    return OptimalKMeans1D.centroids(weights.values(), 0, 16 * size, null, 4);
  }

  /** The exact DP over all sorted distinct values of the first group (the kernel before the windows), 4-bit. */
  @Benchmark
  public double[] kmeans4BitOneGroupFullDp() {
    OptimalKMeans1D.Points points = OptimalKMeans1D.sortedPoints(weights.values(), null, 16 * size);
    return OptimalKMeans1D.means(points, OptimalKMeans1D.optimalStarts(points, 16));
  }
}
