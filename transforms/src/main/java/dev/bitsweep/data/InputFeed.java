package dev.bitsweep.data;

import java.io.Serializable;

/**
 * How one model input is fed, from the spec's {@code inputs:} section: from its data file (samples on axis 0 of the
 * file, fed on the model's {@code batchAxis}; -1 = not given), as a constant {@code value} for every run, or as a
 * recurrent {@code state} carried from the output {@code stateOutput} of one frame to the next frame of a sequence,
 * starting from zeros or from the .npy {@code initialFile}.
 */
public record InputFeed(Kind kind, int batchAxis, double value, String stateOutput, String initialFile)
    implements Serializable {

  public enum Kind { FILE, VALUE, STATE }

  public static final InputFeed FROM_FILE = new InputFeed(Kind.FILE, -1, 0, null, null);

  public static InputFeed file(int batchAxis) {
    return new InputFeed(Kind.FILE, batchAxis, 0, null, null);
  }

  public static InputFeed constant(double value) {
    return new InputFeed(Kind.VALUE, -1, value, null, null);
  }

  /** @param initialFile a .npy of the state for batch 1 as the model declares it, or null for zeros */
  public static InputFeed state(String stateOutput, String initialFile, int batchAxis) {
    return new InputFeed(Kind.STATE, batchAxis, 0, stateOutput, initialFile);
  }

  public boolean fromFile() {
    return kind == Kind.FILE;
  }
}
