package dev.bitsweep;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Paths of the fixture models under src/test/resources/models and the demo data under calibration-data/. */
public final class TestModels {
  private TestModels() {}

  public static Path model(String name) {
    try {
      return Path.of(TestModels.class.getResource("/models/" + name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("missing test model " + name, e);
    }
  }

  /** The repository root (the directory holding calibration-data/). */
  public static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !dir.resolve("calibration-data").toFile().isDirectory()) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("cannot find calibration-data/ above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }
}
