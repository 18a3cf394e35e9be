package dev.bitsweep.nativemath;

/**
 * The native math library computes wrong numbers on this machine. An Error, not an exception: code that turns a
 * failed layer into a "failed" result row must not catch it; the job has to stop.
 */
public final class NativeMathError extends Error {
  private static final long serialVersionUID = 1L;

  public NativeMathError(String message) {
    super(message);
  }
}
