package dev.bitsweep.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** bitsweep's version, from the build. */
public final class Version {
  private static final String VERSION = load();

  private Version() {}

  public static String get() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in = Version.class.getResourceAsStream("/bitsweep-version.properties")) {
      Properties properties = new Properties();
      if (in != null) {
        properties.load(in);
      }
      return properties.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
