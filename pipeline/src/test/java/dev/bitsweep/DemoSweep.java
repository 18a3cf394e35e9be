package dev.bitsweep;

import dev.bitsweep.cluster.Launch;
import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The README's demo sweep on the DirectRunner, run once per test JVM and shared by the test classes that only read
 * its output (surefire runs them all in one JVM), so that the suite does not pay for it twice.
 */
public final class DemoSweep {
  private static SweepOutcome direct;

  private DemoSweep() {}

  /** The outcome of the demo sweep, written to {@code target/demo-sweep}; callers must not change that directory. */
  public static synchronized SweepOutcome direct() {
    if (direct == null) {
      Path out = Path.of("target", "demo-sweep").toAbsolutePath();
      deleteTree(out);
      direct = new SweepRunner(System.out).run(Fixtures.digits().resolve("sweep.yaml"),
          Launch.embedded().withRunner("direct").withOut(out));
    }
    return direct;
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clear " + dir, e);
    }
  }
}
