package dev.bitsweep.compress;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/** Parsing of snake_case choice values and "did you mean" suggestions for config fields. */
public final class Choices {
  private Choices() {}

  public static String id(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }

  static <E extends Enum<E>> E parse(String field, String text, E[] values) {
    List<String> ids = new ArrayList<>();
    for (E value : values) {
      if (id(value).equals(text)) {
        return value;
      }
      ids.add(id(value));
    }
    throw new ConfigException(field, "unknown value '" + text + "'; expected one of " + ids + suggestion(text, ids));
  }

  /** " (did you mean 'x'?)" for the closest candidate within a small edit distance, else "". */
  public static String suggestion(String text, Collection<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : candidates) {
      int distance = editDistance(text.toLowerCase(Locale.ROOT), candidate);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = candidate;
      }
    }
    boolean close = best != null && (bestDistance <= Math.max(2, best.length() / 3)
        || best.startsWith(text.toLowerCase(Locale.ROOT)) && !text.isEmpty());
    return close ? " (did you mean '" + best + "'?)" : "";
  }

  /** Levenshtein distance; also behind the sweep spec's "did you mean" for its own keys. */
  public static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
