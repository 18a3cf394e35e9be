package dev.bitsweep.methods;

/**
 * A readable config id being built: the method name, then one {@code -part} per distinguishing value, e.g.
 * {@code palettize-kmeans-4bit-per_grouped_channel-g16}. Ids name directories, so ':' becomes '_'.
 */
public final class ConfigName {
  private final StringBuilder id;

  ConfigName(String method) {
    this.id = new StringBuilder(method);
  }

  /** Appends {@code -part}. */
  public ConfigName add(Object part) {
    id.append('-').append(part);
    return this;
  }

  /** Appends {@code -part} when {@code condition} holds. */
  public ConfigName addIf(boolean condition, Object part) {
    return condition ? add(part) : this;
  }

  /** Appends text as is (e.g. {@code +palettize-4bit} for a joint config). */
  public ConfigName append(String text) {
    id.append(text);
    return this;
  }

  @Override
  public String toString() {
    return id.toString().replace(':', '_');
  }
}
