package dev.bitsweep.onnx;

/** A model file that cannot be used: the message names the file and what to do about it. */
public class ModelException extends RuntimeException {
  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
