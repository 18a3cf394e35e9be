package dev.bitsweep.cluster;

import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The embedded-Flink run of a spec that cluster runs are compared with; run once per spec and test JVM. */
final class EmbeddedReference {
  private static final Map<Path, SweepOutcome> RUNS = new ConcurrentHashMap<>();

  private EmbeddedReference() {}

  static synchronized SweepOutcome of(Path spec) {
    Path key = spec.toAbsolutePath().normalize();
    return RUNS.computeIfAbsent(key, s -> new SweepRunner(System.out).run(s, Launch.embedded()
        .withOut(ProcessCluster.testClustersDir().resolve("embedded-reference").resolve(Integer.toHexString(s.hashCode())))));
  }
}
