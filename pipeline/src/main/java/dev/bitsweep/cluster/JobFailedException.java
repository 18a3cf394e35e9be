package dev.bitsweep.cluster;

/** A job that could not be submitted, or ended in a state other than DONE. */
public final class JobFailedException extends RuntimeException {
  public JobFailedException(String message) {
    super(message);
  }

  public JobFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
