package dev.bitsweep.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.BinaryOperator;

/**
 * A sum over batch indexes along a fixed binary tree: batches 2k and 2k+1 first, then pairs of pairs, and the
 * remaining complete subtrees (the binary decomposition of the batch range) left to right. Floating-point totals
 * depend only on the tree, never on the order or grouping the parts arrive in, and only the completed subtrees are
 * held: O(log batches) when parts arrive roughly in order. Parts are either single batches (level 0) or subtrees a
 * previous tree completed ({@link #subtrees}), so partial trees of disjoint batch sets merge to the same total.
 */
final class BatchOrderTree<T> {
  /** A completed subtree covering batches {@code start .. start + 2^level - 1}. */
  record Subtree<T>(int level, int start, T total) {}

  private final BinaryOperator<T> plus;
  private final TreeMap<Integer, Subtree<T>> subtrees = new TreeMap<>();

  BatchOrderTree(BinaryOperator<T> plus) {
    this.plus = plus;
  }

  void addBatch(int batch, T value) {
    add(0, batch, value);
  }

  /** Adds a completed subtree; a part already present (a retried batch) is replaced. */
  void add(int level, int start, T total) {
    if (start < 0 || level < 0 || level > 30 || (start & ((1 << level) - 1)) != 0) {
      throw new IllegalArgumentException("no subtree of level " + level + " starts at batch " + start);
    }
    int index = start >> level;
    while (true) {
      int siblingStart = (index ^ 1) << level;
      Subtree<T> sibling = subtrees.get(siblingStart);
      if (sibling == null || sibling.level() != level) {
        break;
      }
      subtrees.remove(siblingStart);
      // IEEE addition of two operands is commutative: only the tree's shape decides the bits
      total = plus.apply(total, sibling.total());
      level++;
      index >>= 1;
    }
    subtrees.put(index << level, new Subtree<>(level, index << level, total));
  }

  boolean isEmpty() {
    return subtrees.isEmpty();
  }

  /** The completed subtrees in batch order. */
  List<Subtree<T>> subtrees() {
    return new ArrayList<>(subtrees.values());
  }

  /** Once every batch is in: the total, summing the remaining subtrees in batch order. */
  T total() {
    T total = null;
    for (Subtree<T> subtree : subtrees.values()) {
      total = total == null ? subtree.total() : plus.apply(total, subtree.total());
    }
    if (total == null) {
      throw new IllegalStateException("no batches were added");
    }
    return total;
  }
}
