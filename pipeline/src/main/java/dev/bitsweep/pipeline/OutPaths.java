package dev.bitsweep.pipeline;

import dev.bitsweep.spec.ConfigIds;
import java.nio.file.Path;

/**
 * Paths under the output directory built from user input (sweep names, config ids): each segment must be a safe
 * name ({@link ConfigIds#isSafeSegment}, or {@code sweep_id=} followed by one) and the result must stay inside
 * {@code out}; anything else is a bug, never a place to write or delete.
 */
public final class OutPaths {
  private OutPaths() {}

  public static Path inside(Path out, String... segments) {
    Path root = out.toAbsolutePath().normalize();
    Path path = root;
    for (String segment : segments) {
      String name = segment.startsWith("sweep_id=") ? segment.substring("sweep_id=".length())
          : segment.endsWith(".md") ? segment.substring(0, segment.length() - 3) : segment;
      if (!ConfigIds.isSafeSegment(name)) {
        throw new IllegalArgumentException("refusing the path segment '" + segment + "' under " + root
            + ": not a safe directory name");
      }
      path = path.resolve(segment);
    }
    Path normalized = path.normalize();
    if (!normalized.startsWith(root) || normalized.equals(root)) {
      throw new IllegalArgumentException("refusing " + normalized + ": it is not inside " + root);
    }
    return normalized;
  }
}
