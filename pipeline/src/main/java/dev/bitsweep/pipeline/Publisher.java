package dev.bitsweep.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Moves a finished job's staged outputs into place, all or nothing: the sweep's packages
 * ({@code packages/<sweep_id>/}), {@code layers/sweep_id=<id>/}, the report ({@code reports/<sweep_id>.md}) and
 * {@code runs/sweep_id=<id>/} last, each replacing what an earlier run of the same sweep left there. What it
 * replaces is first moved aside into the staging area; when any move fails, every move done so far is undone and
 * the earlier results are put back, so readers see the old sweep or the new one, never a mixture. A job that did not
 * finish publishes nothing.
 */
public final class Publisher {
  /** The staged report, published as {@code reports/<sweep_id>.md}. */
  static final String STAGED_REPORT = "report.md";

  private Publisher() {}

  /** One staged output and where it goes. */
  private record Move(String what, Path staged, Path target) {}

  /** The places a sweep's results are published to, each checked to lie inside {@code out}. */
  static List<Path> targets(Path out, String sweepId) {
    return List.of(OutPaths.inside(out, "packages", sweepId), OutPaths.inside(out, "layers", "sweep_id=" + sweepId),
        OutPaths.inside(out, "reports", sweepId + ".md"), OutPaths.inside(out, "runs", "sweep_id=" + sweepId));
  }

  static void publish(Path staging, Path out, String sweepId) throws IOException {
    for (String table : List.of("layers", "runs")) {
      Path staged = WriteResults.stagedTable(staging.toString(), table);
      boolean written;
      try (Stream<Path> files = Files.isDirectory(staged) ? Files.list(staged) : Stream.empty()) {
        written = files.anyMatch(f -> f.getFileName().toString().endsWith(".parquet"));
      }
      if (!written) {
        throw new PublishException("the job finished but wrote no " + table + " table to " + staged
            + "; nothing was published");
      }
    }
    Path stagedPackages = Files.createDirectories(staging.resolve("packages"));
    List<Path> targets = targets(out, sweepId);
    List<Move> moves = List.of(new Move("packages", stagedPackages, targets.get(0)),
        new Move("layers table", WriteResults.stagedTable(staging.toString(), "layers"), targets.get(1)),
        new Move("report", staging.resolve(STAGED_REPORT), targets.get(2)),
        new Move("runs table", WriteResults.stagedTable(staging.toString(), "runs"), targets.get(3)));
    Path replaced = staging.resolve("replaced");
    List<Runnable> undo = new ArrayList<>();
    try {
      for (int i = 0; i < moves.size(); i++) {
        Move move = moves.get(i);
        Publisher.beforeMove(move.what());
        Path parent = move.target().getParent();
        if (!Files.isDirectory(parent)) {
          Files.createDirectories(parent);
          undo.add(() -> removeIfEmpty(parent));
        }
        if (Files.exists(move.target())) {
          Path aside = Files.createDirectories(replaced).resolve(String.valueOf(i));
          Files.move(move.target(), aside, StandardCopyOption.ATOMIC_MOVE);
          undo.add(() -> moveBack(aside, move.target()));
        }
        Files.move(move.staged(), move.target(), StandardCopyOption.ATOMIC_MOVE);
        undo.add(() -> moveBack(move.target(), move.staged()));
      }
    } catch (IOException | RuntimeException e) {
      List<String> stuck = new ArrayList<>();
      for (int i = undo.size() - 1; i >= 0; i--) {
        try {
          undo.get(i).run();
        } catch (UncheckedIOException undoFailed) {
          stuck.add(undoFailed.getMessage());
        }
      }
      String cause = SweepRunner.rootMessage(e);
      if (stuck.isEmpty()) {
        throw new PublishException("publishing failed (" + cause + "); nothing was published: " + out
            + " holds what it held before for sweep " + sweepId, e);
      }
      throw new PublishException("publishing failed (" + cause + ") and could not be fully undone (" + stuck
          + "); the results of sweep " + sweepId + " in " + out + " are INCOMPLETE: rerun the sweep", e);
    }
    try {
      deleteRecursively(staging);
    } catch (IOException e) {
      // published; what is left of the staging area is removed by the caller or the next run
    }
  }

  private static void removeIfEmpty(Path dir) {
    try (Stream<Path> list = Files.list(dir)) {
      if (list.findAny().isEmpty()) {
        Files.delete(dir);
      }
    } catch (IOException e) {
      // an empty directory left behind presents nothing as published
    }
  }

  private static void moveBack(Path from, Path to) {
    try {
      Files.createDirectories(to.getParent());
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move " + from + " back to " + to, e);
    }
  }

  /** Test hook: runs before each move ({@code packages}, {@code layers table}, {@code report}, {@code runs table}). */
  static volatile java.util.function.Consumer<String> beforeMoveHook = what -> {};

  private static void beforeMove(String what) {
    beforeMoveHook.accept(what);
  }

  static void discard(Path staging) {
    try {
      deleteRecursively(staging);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the staging area " + staging, e);
    }
  }

  static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Publishing failed; the message says what is (and is not) in the output directory. */
  public static final class PublishException extends RuntimeException {
    PublishException(String message) {
      super(message);
    }

    PublishException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
