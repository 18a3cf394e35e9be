package dev.bitsweep.eval.metrics;

import dev.bitsweep.data.DataException;
import dev.bitsweep.data.NpyArray;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Labels of evaluation samples, in one of the forms the tasks read: class ids (classification, binary 0/1),
 * token-id sequences (ctc; a .npy [N, L] integer array padded with -1), text lines (ctc; a UTF-8 .txt, one line per
 * sample) or float targets (regression; a .npy [N, ...]).
 */
public record Labels(long[] classes, int[][] sequences, List<String> texts, float[] targets, int targetWidth)
    implements Serializable {

  public static Labels ofClasses(long[] classes) {
    return new Labels(classes.clone(), null, null, null, 0);
  }

  public static Labels ofSequences(int[][] sequences) {
    return new Labels(null, sequences, null, null, 0);
  }

  public static Labels ofTexts(List<String> texts) {
    return new Labels(null, null, List.copyOf(texts), null, 0);
  }

  public static Labels ofTargets(float[] targets, int width) {
    return new Labels(null, null, null, targets.clone(), width);
  }

  /** Class ids from an integer .npy [N]. */
  public static Labels readClasses(Path file) {
    NpyArray array = NpyArray.read(file);
    if (array.shape().length != 1 || array.dtype().startsWith("float")) {
      throw new DataException("labels file " + file + " is " + array.dtype() + " " + Arrays.toString(array.shape())
          + "; class labels must be integers of shape [N] (save them as int64)");
    }
    return ofClasses(array.longs(0, array.samples()));
  }

  /** Token-id sequences from an integer .npy [N, L] padded with -1, or text lines from a .txt. */
  public static Labels readSequences(Path file) {
    if (file.toString().endsWith(".txt")) {
      try {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        return ofTexts(lines);
      } catch (IOException e) {
        throw new DataException("cannot read text labels " + file + ": " + e.getMessage());
      }
    }
    NpyArray array = NpyArray.read(file);
    long[] shape = array.shape();
    if (shape.length != 2 || array.dtype().startsWith("float")) {
      throw new DataException("sequence labels " + file + " are " + array.dtype() + " " + Arrays.toString(shape)
          + "; expected integer token ids [N, max length] padded with -1 (or a .txt with one line per sample)");
    }
    long[] flat = array.longs(0, array.samples());
    int width = (int) shape[1];
    int[][] sequences = new int[array.samples()][];
    for (int s = 0; s < sequences.length; s++) {
      List<Integer> tokens = new ArrayList<>();
      for (int i = 0; i < width && flat[s * width + i] >= 0; i++) {
        tokens.add((int) flat[s * width + i]);
      }
      sequences[s] = tokens.stream().mapToInt(Integer::intValue).toArray();
    }
    return ofSequences(sequences);
  }

  /** Float targets from a .npy [N, ...]. */
  public static Labels readTargets(Path file) {
    NpyArray array = NpyArray.read(file);
    return ofTargets(array.floats(0, array.samples()), array.sampleSize());
  }

  public int samples() {
    if (classes != null) {
      return classes.length;
    }
    if (sequences != null) {
      return sequences.length;
    }
    if (texts != null) {
      return texts.size();
    }
    return targets.length / Math.max(1, targetWidth);
  }

  /** Samples [from, to). */
  public Labels slice(int from, int to) {
    if (classes != null) {
      return ofClasses(Arrays.copyOfRange(classes, from, to));
    }
    if (sequences != null) {
      return ofSequences(Arrays.copyOfRange(sequences, from, to));
    }
    if (texts != null) {
      return ofTexts(texts.subList(from, to));
    }
    return ofTargets(Arrays.copyOfRange(targets, from * targetWidth, to * targetWidth), targetWidth);
  }
}
