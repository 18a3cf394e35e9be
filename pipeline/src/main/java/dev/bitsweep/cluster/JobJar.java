package dev.bitsweep.cluster;

import dev.bitsweep.spec.SpecException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the bitsweep job jar (everything but Flink, see pipeline/pom.xml) that is uploaded to a Flink cluster:
 * the system property {@code bitsweep.jobJar}, else the environment variable {@code BITSWEEP_JOB_JAR}, else the jar
 * these classes run from when that is the job jar, else {@code bitsweep-job.jar} beside the classes (pipeline/target).
 */
public final class JobJar {
  public static final String FILE_NAME = "bitsweep-job.jar";

  private JobJar() {}

  public static Path locate() {
    String configured = System.getProperty("bitsweep.jobJar", System.getenv("BITSWEEP_JOB_JAR"));
    if (configured != null && !configured.isBlank()) {
      return existing(Path.of(configured), "bitsweep.jobJar / BITSWEEP_JOB_JAR");
    }
    Path codeSource;
    try {
      codeSource = Path.of(JobJar.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new SpecException("cannot tell where bitsweep runs from to find " + FILE_NAME
          + "; name the job jar with --files-to-stage or BITSWEEP_JOB_JAR");
    }
    if (codeSource.getFileName().toString().equals(FILE_NAME)) {
      return codeSource;
    }
    return existing(codeSource.resolveSibling(FILE_NAME), "the build directory");
  }

  private static Path existing(Path jar, String from) {
    Path absolute = jar.toAbsolutePath().normalize();
    if (!Files.isRegularFile(absolute)) {
      throw new SpecException("the job jar " + absolute + " (from " + from + ") does not exist; build it with"
          + " `mvn -DskipTests package` (pipeline/target/" + FILE_NAME + ") or name one with --files-to-stage");
    }
    return absolute;
  }
}
