package dev.bitsweep.eval.metrics;

import dev.bitsweep.eval.ModelRunner.Output;
import java.util.Arrays;

/** Per-sample class scores of an output along its class axis (every other non-batch axis must have size 1). */
final class ClassScores {
  private ClassScores() {}

  /**
   * The class count of {@code output} along {@code classAxis}, which must be at least 2: a single class is an error
   * "task TASK on output 'NAME' with {@code whyNotOne}".
   */
  static int severalClasses(String task, String name, Output output, int classAxis, String whyNotOne) {
    int classes = classes(task, name, output, classAxis);
    if (classes == 1) {
      throw new MetricException("task " + task + " on output '" + name + "' with " + whyNotOne);
    }
    return classes;
  }

  /** The class count of {@code output} along {@code classAxis} (negative counts from the end). */
  private static int classes(String task, String name, Output output, int classAxis) {
    long[] shape = output.shape();
    int axis = classAxis < 0 ? shape.length + classAxis : classAxis;
    if (shape.length < 2 || axis < 1 || axis >= shape.length) {
      throw new MetricException("task " + task + ": output '" + name + "' has shape " + Arrays.toString(shape)
          + ", which has no class axis " + classAxis + " (axis 0 is the samples); set class_axis to the axis of the "
          + "class scores");
    }
    for (int i = 1; i < shape.length; i++) {
      if (i != axis && shape[i] != 1) {
        throw new MetricException("task " + task + ": output '" + name + "' has shape " + Arrays.toString(shape)
            + "; one label per sample needs one score per class along class_axis " + classAxis
            + " and size 1 elsewhere (for a sequence output use task ctc)");
      }
    }
    return (int) shape[axis];
  }

  /** The index of the highest score of sample {@code s} (the lowest index among ties). */
  static int argmax(float[] values, int s, int classes) {
    int best = 0;
    int base = s * classes;
    for (int c = 1; c < classes; c++) {
      if (values[base + c] > values[base + best]) {
        best = c;
      }
    }
    return best;
  }

  /** The 0-based rank of class {@code label} of sample {@code s}: classes ahead of it (higher, or equal and lower index). */
  static int rank(float[] values, int s, int classes, int label) {
    int base = s * classes;
    float score = values[base + label];
    int ahead = 0;
    for (int c = 0; c < classes; c++) {
      float v = values[base + c];
      if (v > score || v == score && c < label) {
        ahead++;
      }
    }
    return ahead;
  }
}
