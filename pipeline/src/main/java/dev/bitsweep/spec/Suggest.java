package dev.bitsweep.spec;

import dev.bitsweep.compress.Choices;
import java.util.Collection;

/** "Did you mean" suggestions by edit distance. */
public final class Suggest {
  private Suggest() {}

  /** The candidate closest to {@code word}, or null when none is close (more than a third of its letters differ). */
  public static String closest(String word, Collection<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : candidates) {
      int distance = Choices.editDistance(word.toLowerCase(), candidate.toLowerCase());
      if (distance < bestDistance) {
        bestDistance = distance;
        best = candidate;
      }
    }
    return best != null && bestDistance <= Math.max(2, word.length() / 3) ? best : null;
  }
}
