package dev.bitsweep.spec;

/** A sweep spec that cannot run: the message names the file, the line and the key, and what to do. */
public class SpecException extends RuntimeException {
  public SpecException(String message) {
    super(message);
  }
}
