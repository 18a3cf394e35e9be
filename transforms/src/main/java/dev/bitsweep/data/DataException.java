package dev.bitsweep.data;

/** Data that cannot be used with the model: names the file and the model input at fault. */
public class DataException extends RuntimeException {
  public DataException(String message) {
    super(message);
  }
}
