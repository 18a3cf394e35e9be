package dev.bitsweep;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Test fixture locations: pipeline test resources and the repository's calibration-data/. */
public final class Fixtures {
  private Fixtures() {}

  public static Path resource(String path) {
    try {
      return Path.of(Fixtures.class.getResource("/" + path).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("missing test resource " + path, e);
    }
  }

  public static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !dir.resolve("calibration-data").toFile().isDirectory()) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("cannot find calibration-data/ above the working directory");
    }
    return dir;
  }

  public static Path digits() {
    return repositoryRoot().resolve("calibration-data/digits");
  }

  public static Path structuralModel(String name) {
    return repositoryRoot().resolve("transforms/src/test/resources/models").resolve(name);
  }
}
