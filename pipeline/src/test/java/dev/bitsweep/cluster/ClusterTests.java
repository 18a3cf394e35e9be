package dev.bitsweep.cluster;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** What every cluster test needs: run by failsafe after `package` (it sets these properties), with the job jar. */
final class ClusterTests {
  private ClusterTests() {}

  static Path jobJar() {
    assumeTrue(Boolean.getBoolean("bitsweep.clusterTests"),
        "cluster tests run in the integration-test phase (mvn verify), after the job jar is built");
    Path jar = Path.of(System.getProperty("bitsweep.jobJar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("the job jar " + jar + " is missing; `mvn verify` builds it (profile job-jar),"
          + " unless -DskipJobJar was given");
    }
    return jar;
  }
}
