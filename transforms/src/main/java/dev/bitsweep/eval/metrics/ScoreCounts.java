package dev.bitsweep.eval.metrics;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * How many positive and negative samples had each distinct score: enough for the exact ROC AUC, and a partial that
 * merges exactly (counts add per score).
 */
public record ScoreCounts(TreeMap<Float, long[]> byScore) implements Serializable {
  public static ScoreCounts empty() {
    return new ScoreCounts(new TreeMap<>());
  }

  void add(float score, boolean positive) {
    byScore.computeIfAbsent(score, s -> new long[2])[positive ? 1 : 0]++;
  }

  ScoreCounts plus(ScoreCounts other) {
    TreeMap<Float, long[]> sum = new TreeMap<>();
    byScore.forEach((s, c) -> sum.put(s, c.clone()));
    other.byScore.forEach((s, c) -> {
      long[] mine = sum.computeIfAbsent(s, k -> new long[2]);
      mine[0] += c[0];
      mine[1] += c[1];
    });
    return new ScoreCounts(sum);
  }

  /**
   * ROC AUC by the rank formula: (Σ ranks of positives − P(P+1)/2) / (P·N), ranks ascending from 1, tied scores
   * sharing their mean rank. Computed in integers (twice every rank) and divided once; null without both classes.
   */
  public Double auc() {
    long positives = 0;
    long negatives = 0;
    for (long[] c : byScore.values()) {
      negatives += c[0];
      positives += c[1];
    }
    if (positives == 0 || negatives == 0) {
      return null;
    }
    long nextRank = 1;
    long twiceRankSum = 0;
    for (Map.Entry<Float, long[]> entry : byScore.entrySet()) {
      long size = entry.getValue()[0] + entry.getValue()[1];
      long twiceMidRank = 2 * nextRank + size - 1;
      twiceRankSum += entry.getValue()[1] * twiceMidRank;
      nextRank += size;
    }
    long twiceU = twiceRankSum - positives * (positives + 1);
    return (double) twiceU / (2.0 * positives * negatives);
  }
}
