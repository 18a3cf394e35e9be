package dev.bitsweep.compress;

/** A config that cannot work; names the field at fault and what to do about it. */
public class ConfigException extends IllegalArgumentException {
  private final String field;

  public ConfigException(String field, String message) {
    super(field + ": " + message);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
