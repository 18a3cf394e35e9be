package dev.bitsweep.compress;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Exact 1-D (weighted) k-means without sorting every value: the boundaries of the optimal split are narrowed to
 * proven windows on ever finer value grids, and only the values inside the final windows are sorted.
 *
 * <p>The bound: for centroids c the gain Σ S²/W of the nearest-centroid assignment is Σ w·f(x) with
 * f(x) = max_j (2·c_j·x - c_j²), convex in x. Replacing the values of a cell (weight W, sum S, grid edges lo and
 * hi) by two atoms at lo and hi with the same weight and sum is a mean-preserving spread, so it can only raise
 * Σ w·f(x) (Jensen). An optimal split assigns every value to its nearest centroid, so with its own centroids the
 * spread sequence splits at the same midpoints m_j: at a cell edge, or between the two atoms of the cell holding
 * m_j. Hence the DP over the spread sequence (forward plus backward values, within the windows known so far)
 * bounds the gain of every optimal split whose midpoint m_j lies at a given edge or inside a given cell; positions
 * whose bound is below the gain of a feasible cell-aligned split are excluded, and what remains is a window of
 * cells that holds m_j, hence the split of the values around it.
 *
 * <p>Levels: {@link #CELLS} equal cells over [min, max], each level {@code 2^REFINE_BITS}-fold finer inside the
 * windows. One pass histograms all values at level {@link #FIRST_LEVELS}, which gives levels 0 to FIRST_LEVELS
 * by summing cells; deeper levels gather the values inside the windows. Once at most {@link #FINAL_VALUES} values
 * remain they are sorted, and the exact DP over their distinct values, each boundary within its window, gives the
 * global optimum. Each DP layer is a row-maxima problem of a Monge matrix (the gain satisfies the quadrangle
 * inequality on any sorted sequence, spread or not), solved by divide and conquer over monotone split points
 * (SMAWK was tried: on windows of 50 to 100 positions its bookkeeping cost more than the log factor it saves).
 */
final class WindowedKMeans1D {
  static final int CELLS = 128;
  static final int REFINE_BITS = 2;
  /** Levels 0 to FIRST_LEVELS come from the histogram of the first pass, at the finest of them. */
  static final int FIRST_LEVELS = 3;
  static final int FINAL_VALUES = 256;
  /** Inputs at least this large are read in fixed chunks in parallel (fixed, so results do not depend on it). */
  static final int PARALLEL_THRESHOLD = 1 << 21;
  private static final int CHUNKS = 8;
  private static final int MAX_GRID_BITS = 30;
  private static final int MAX_ROUNDS = 1;

  private WindowedKMeans1D() {}

  /**
   * Up to k centroids in ascending order, the optimal k-means table of {@code values[from..to)} weighted by
   * {@code weights[0..to-from)} (null: all 1; weights <= 0 are left out).
   */
  static double[] centroids(float[] values, int from, int to, float[] weights, int k) {
    return centroids(values, from, to, weights, k, CELLS, FINAL_VALUES);
  }

  /** As above with the level-0 cell count and the value count at which the windows are sorted (tests). */
  static double[] centroids(float[] values, int from, int to, float[] weights, int k, int cells, int finalValues) {
    return new Solver(values, from, to, weights, k, cells, finalValues).solve();
  }

  /** Large buffers kept per thread across groups. */
  private static final class Buffers {
    float[] a = new float[0];
    float[] aw = new float[0];
    float[] b = new float[0];
    float[] bw = new float[0];

    /** Room for n values (and weights) in the buffer written next; the one read now is left alone. */
    void ensure(int n, boolean weighted) {
      if (b.length < n) {
        b = new float[n];
      }
      if (weighted && bw.length < n) {
        bw = new float[n];
      }
    }

    void swap() {
      float[] t = a;
      a = b;
      b = t;
      t = aw;
      aw = bw;
      bw = t;
    }
  }

  private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

  private static final class Solver {
    final float[] values;
    final int from;
    final int to;
    final float[] weights;
    final int k;
    final int cells;
    final int finalValues;
    final Buffers buffers;

    double min;
    double max;
    double scale0;
    double pad;
    int level;
    double totalW;
    double totalS;
    long totalN;
    /** Level-1 histogram of all values (the first pass), consumed by the step from level 0 to level 1. */
    int[] firstN;
    double[] firstW;
    double[] firstS;
    /** Whether the values of the current regions are still only in the input (not gathered into buffers.a). */
    boolean inInput = true;

    // regions of the current level: grid cells [regStart, regEnd), prefix at the start, slice in buffers.a
    int regions;
    int[] regStart;
    double[] regW;
    double[] regS;
    long[] regN;
    int[] regOff;
    // cell histograms of the current level, region r's cells from cellBase[r]
    int[] cellBase;
    double[] cellW;
    double[] cellS;
    int[] cellN;
    // windows carried between levels as grid edges of the current level, with their region
    int[] winLoEdge;
    int[] winHiEdge;
    int[] winRegion;

    // positions of the current level: 0 is the start, npos-1 the end; inside each cell holding values lies a
    // virtual position, between the two atoms of the cell's spread
    int npos;
    double[] posW;
    double[] posS;
    long[] posN;
    int[] posEdge;
    int[] posRegion;
    boolean[] virtual;
    int[] lo;
    int[] hi;
    double gainLow = Double.NEGATIVE_INFINITY;

    Solver(float[] values, int from, int to, float[] weights, int k, int cells, int finalValues) {
      this.values = values;
      this.from = from;
      this.to = to;
      this.weights = weights;
      this.k = k;
      this.cells = cells;
      this.finalValues = finalValues;
      // whole tensors gather up to a few MB: not kept per thread
      this.buffers = to - from >= PARALLEL_THRESHOLD ? new Buffers() : BUFFERS.get();
    }

    double[] solve() {
      int chunks = to - from >= PARALLEL_THRESHOLD ? CHUNKS : 1;
      float[][] extremes = new float[chunks][];
      IntStream.range(0, chunks).parallel().forEach(c -> extremes[c] = extremes(chunkStart(c, chunks),
          chunkStart(c + 1, chunks)));
      float lowest = Float.POSITIVE_INFINITY;
      float highest = Float.NEGATIVE_INFINITY;
      for (float[] e : extremes) {
        lowest = Math.min(lowest, e[0]);
        highest = Math.max(highest, e[1]);
      }
      if (!(lowest <= highest)) {
        return new double[0];
      }
      if (lowest == highest) {
        return new double[] {lowest};
      }
      min = lowest;
      max = highest;
      scale0 = cells / (max - min);
      // rounding of (x - min) * scale may put a value a few ulps outside its cell's nominal edges
      pad = (max - min) * 0x1p-40;
      firstPass();
      initWindows();
      int gridBits = 31 - Integer.numberOfLeadingZeros(cells);
      long previousInWindows = Long.MAX_VALUE;
      while (true) {
        buildPositions();
        narrow();
        long inWindows = valuesInWindows();
        // deeper levels pay only while they shed values (ties and rounding can stop the windows shrinking)
        boolean last = gridBits + REFINE_BITS * (level + 1) > MAX_GRID_BITS
            || level > FIRST_LEVELS && inWindows * 4 > previousInWindows * 3;
        previousInWindows = inWindows;
        if (inWindows <= finalValues || last) {
          return finish();
        }
        if (level < FIRST_LEVELS) {
          refineFromFirstPass();
        } else {
          refine();
        }
      }
    }

    int chunkStart(int chunk, int chunks) {
      return from + (int) ((long) (to - from) * chunk / chunks);
    }

    /** The smallest and largest value of positive weight in values[start..end). */
    float[] extremes(int start, int end) {
      float lowest = Float.POSITIVE_INFINITY;
      float highest = Float.NEGATIVE_INFINITY;
      if (weights == null) {
        for (int i = start; i < end; i++) {
          float x = values[i];
          lowest = Math.min(lowest, x);
          highest = Math.max(highest, x);
        }
      } else {
        for (int i = start; i < end; i++) {
          if (weights[i - from] > 0) {
            float x = values[i];
            lowest = Math.min(lowest, x);
            highest = Math.max(highest, x);
          }
        }
      }
      return new float[] {lowest, highest};
    }

    int gridSize() {
      return cells << (REFINE_BITS * level);
    }

    double scale() {
      return Math.scalb(scale0, REFINE_BITS * level);
    }

    static int cell(double x, double min, double scale, int size) {
      long c = (long) ((x - min) * scale);
      return c >= size ? size - 1 : (int) c;
    }

    /** One pass: the histogram of all values on the grid of level FIRST_LEVELS, summed into the level-0 cells. */
    void firstPass() {
      int size = cells << (REFINE_BITS * FIRST_LEVELS);
      int chunks = to - from >= PARALLEL_THRESHOLD ? CHUNKS : 1;
      int[][] counts = new int[chunks][];
      double[][] sums = new double[chunks][];
      double[][] weightSums = new double[chunks][];
      IntStream.range(0, chunks).parallel().forEach(c -> {
        counts[c] = new int[size];
        sums[c] = new double[size];
        weightSums[c] = weights == null ? null : new double[size];
        histogram(chunkStart(c, chunks), chunkStart(c + 1, chunks), counts[c], sums[c], weightSums[c], size);
      });
      firstN = counts[0];
      firstS = sums[0];
      firstW = weightSums[0];
      for (int c = 1; c < chunks; c++) {
        for (int i = 0; i < size; i++) {
          firstN[i] += counts[c][i];
          firstS[i] += sums[c][i];
          if (firstW != null) {
            firstW[i] += weightSums[c][i];
          }
        }
      }
      regions = 1;
      regStart = new int[] {0};
      regW = new double[] {0};
      regS = new double[] {0};
      regN = new long[] {0};
      cellBase = new int[] {0, cells};
      cellW = new double[cells];
      cellS = new double[cells];
      cellN = new int[cells];
      for (int c = 0; c < size; c++) {
        int coarse = c >> (REFINE_BITS * FIRST_LEVELS);
        cellN[coarse] += firstN[c];
        cellW[coarse] += firstW == null ? firstN[c] : firstW[c];
        cellS[coarse] += firstS[c];
      }
      for (int c = 0; c < cells; c++) {
        totalW += cellW[c];
        totalS += cellS[c];
        totalN += cellN[c];
      }
    }

    void histogram(int start, int end, int[] count, double[] sum, double[] weightSum, int size) {
      double lowest = min;
      double scale = Math.scalb(scale0, REFINE_BITS * FIRST_LEVELS);
      if (weights == null) {
        for (int i = start; i < end; i++) {
          float x = values[i];
          int c = cell(x, lowest, scale, size);
          count[c]++;
          sum[c] += x;
        }
      } else {
        for (int i = start; i < end; i++) {
          float w = weights[i - from];
          if (w > 0) {
            float x = values[i];
            int c = cell(x, lowest, scale, size);
            count[c]++;
            weightSum[c] += w;
            sum[c] += (double) w * x;
          }
        }
      }
    }

    void initWindows() {
      winLoEdge = new int[k + 1];
      winHiEdge = new int[k + 1];
      winRegion = new int[k + 1];
      for (int j = 1; j < k; j++) {
        winHiEdge[j] = cells;
      }
    }

    /**
     * Positions: the start, then per region its start edge and, per non-empty cell, the virtual split of its
     * spread and its end edge; the end.
     */
    void buildPositions() {
      int capacity = 2 + regions;
      for (int c = 0; c < cellBase[regions]; c++) {
        if (cellN[c] > 0) {
          capacity += 2;
        }
      }
      posW = new double[capacity];
      posS = new double[capacity];
      posN = new long[capacity];
      posEdge = new int[capacity];
      posRegion = new int[capacity];
      virtual = new boolean[capacity];
      int[] regionFirst = new int[regions + 1];
      double width = 1 / scale();
      int p = 0;
      posRegion[0] = -1;
      p++;
      for (int r = 0; r < regions; r++) {
        regionFirst[r] = p;
        double w = regW[r];
        double s = regS[r];
        long n = regN[r];
        posW[p] = w;
        posS[p] = s;
        posN[p] = n;
        posEdge[p] = regStart[r];
        posRegion[p] = r;
        p++;
        for (int c = cellBase[r]; c < cellBase[r + 1]; c++) {
          if (cellN[c] == 0) {
            continue;
          }
          int edge = regStart[r] + (c - cellBase[r]) + 1;
          double low = min + (edge - 1) * width - pad;
          double high = min + edge * width + pad;
          // the weight at low of the two-atom spread {low, high} with the cell's weight and sum
          double atLow = Math.min(cellW[c], Math.max(0, (high * cellW[c] - cellS[c]) / (high - low)));
          posW[p] = w + atLow;
          posS[p] = s + low * atLow;
          posN[p] = n;
          posEdge[p] = edge - 1;
          posRegion[p] = r;
          virtual[p] = true;
          p++;
          w += cellW[c];
          s += cellS[c];
          n += cellN[c];
          posW[p] = w;
          posS[p] = s;
          posN[p] = n;
          posEdge[p] = edge;
          posRegion[p] = r;
          p++;
        }
      }
      regionFirst[regions] = p;
      posW[p] = totalW;
      posS[p] = totalS;
      posN[p] = totalN;
      posRegion[p] = -1;
      npos = p + 1;
      lo = new int[k + 1];
      hi = new int[k + 1];
      lo[k] = npos - 1;
      hi[k] = npos - 1;
      for (int j = 1; j < k; j++) {
        int r = winRegion[j];
        int first = regionFirst[r];
        int last = regionFirst[r + 1] - 1;
        int a = first;
        for (int q = first + 1; q <= last && posEdge[q] <= winLoEdge[j]; q++) {
          if (!virtual[q]) {
            a = q;
          }
        }
        int b = a;
        while (b < last && (virtual[b] || posEdge[b] < winHiEdge[j])) {
          b++;
        }
        lo[j] = a;
        hi[j] = b;
      }
    }

    double gain(int a, int b) {
      double w = posW[b] - posW[a];
      double s = posS[b] - posS[a];
      return w > 0 ? s * s / w : 0;
    }

    /** Rounds of the bounds on this level (one: a second round, with the narrowed windows, rarely gains). */
    void narrow() {
      for (int round = 0; round < MAX_ROUNDS; round++) {
        long before = windowLength();
        double[][] forward = new double[k + 1][];
        int[][] choice = new int[k + 1][];
        forward[0] = new double[] {0};
        for (int j = 1; j <= k; j++) {
          int length = hi[j] - lo[j] + 1;
          forward[j] = new double[length];
          choice[j] = new int[length];
          forwardLayer(forward[j - 1], lo[j - 1], forward[j], choice[j], lo[j], 0, length - 1, lo[j - 1],
              hi[j - 1]);
        }
        gainLow = Math.max(gainLow, snappedGain(choice));
        double[][] backward = new double[k + 1][];
        backward[k] = new double[] {0};
        for (int j = k - 1; j >= 1; j--) {
          int length = hi[j] - lo[j] + 1;
          backward[j] = new double[length];
          backwardLayer(backward[j + 1], lo[j + 1], backward[j], lo[j], 0, length - 1, lo[j + 1], hi[j + 1]);
        }
        double threshold = gainLow - 1e-11 * Math.abs(gainLow) - Double.MIN_NORMAL;
        for (int j = 1; j < k; j++) {
          int first = -1;
          int last = -1;
          for (int i = lo[j]; i <= hi[j]; i++) {
            if (forward[j][i - lo[j]] + backward[j][i - lo[j]] >= threshold) {
              if (first < 0) {
                first = i;
              }
              last = i;
            }
          }
          if (first >= 0) {
            // windows start and end at cell edges: a surviving cell interior keeps its cell
            while (first > lo[j] && virtual[first]) {
              first--;
            }
            while (last < hi[j] && virtual[last]) {
              last++;
            }
            lo[j] = first;
            hi[j] = last;
          }
        }
        for (int j = 2; j < k; j++) {
          lo[j] = Math.max(lo[j], lo[j - 1]);
        }
        for (int j = k - 2; j >= 1; j--) {
          hi[j] = Math.min(hi[j], hi[j + 1]);
        }
        for (int j = 1; j < k; j++) {
          hi[j] = Math.max(hi[j], lo[j]);
        }
        long after = windowLength();
        if (after * 10 > before * 9) {
          return;
        }
      }
    }

    /**
     * The gain of the relaxed optimum with each boundary at a virtual position moved to the better of its
     * cell's edges: a feasible cell-aligned split, so a lower bound of the optimum.
     */
    double snappedGain(int[][] choice) {
      int[] at = new int[k + 1];
      at[k] = npos - 1;
      for (int j = k; j >= 1; j--) {
        at[j - 1] = choice[j][at[j] - lo[j]];
      }
      for (int j = 1; j < k; j++) {
        if (virtual[at[j]]) {
          int left = at[j] - 1;
          int right = at[j] + 1;
          double viaLeft = gain(at[j - 1], left) + gain(left, at[j + 1]);
          double viaRight = gain(at[j - 1], right) + gain(right, at[j + 1]);
          at[j] = viaLeft >= viaRight ? left : right;
        }
      }
      double total = 0;
      for (int j = 1; j <= k; j++) {
        total += gain(at[j - 1], at[j]);
      }
      return total;
    }

    long windowLength() {
      long total = 0;
      for (int j = 1; j < k; j++) {
        total += hi[j] - lo[j];
      }
      return total;
    }

    /** best[r] = max over columns c <= r of previous[c] + gain(c, r); rows and columns are position indices. */
    void forwardLayer(double[] previous, int colBase, double[] best, int[] choice, int rowBase, int rowLow,
        int rowHigh, int colLow, int colHigh) {
      if (rowLow > rowHigh) {
        return;
      }
      int mid = (rowLow + rowHigh) >>> 1;
      int row = rowBase + mid;
      double bestValue = Double.NEGATIVE_INFINITY;
      int bestColumn = colLow;
      int end = Math.min(colHigh, row);
      for (int c = colLow; c <= end; c++) {
        double value = previous[c - colBase] + gain(c, row);
        if (value > bestValue) {
          bestValue = value;
          bestColumn = c;
        }
      }
      best[mid] = bestValue;
      choice[mid] = bestColumn;
      forwardLayer(previous, colBase, best, choice, rowBase, rowLow, mid - 1, colLow, bestColumn);
      forwardLayer(previous, colBase, best, choice, rowBase, mid + 1, rowHigh, bestColumn, colHigh);
    }

    /** best[r] = max over columns c >= r of next[c] + gain(r, c). */
    void backwardLayer(double[] next, int colBase, double[] best, int rowBase, int rowLow, int rowHigh, int colLow,
        int colHigh) {
      if (rowLow > rowHigh) {
        return;
      }
      int mid = (rowLow + rowHigh) >>> 1;
      int row = rowBase + mid;
      double bestValue = Double.NEGATIVE_INFINITY;
      int bestColumn = colHigh;
      for (int c = Math.max(colLow, row); c <= colHigh; c++) {
        double value = next[c - colBase] + gain(row, c);
        if (value > bestValue) {
          bestValue = value;
          bestColumn = c;
        }
      }
      best[mid] = bestValue;
      backwardLayer(next, colBase, best, rowBase, rowLow, mid - 1, colLow, bestColumn);
      backwardLayer(next, colBase, best, rowBase, mid + 1, rowHigh, bestColumn, colHigh);
    }

    long valuesInWindows() {
      long total = 0;
      int[][] merged = mergedWindows();
      for (int r = 0; r < merged[0].length; r++) {
        total += posN[merged[1][r]] - posN[merged[0][r]];
      }
      return total;
    }

    /**
     * Overlapping windows merged: start and end positions of each, and the merged window of each boundary.
     */
    int[][] mergedWindows() {
      int[] startPos = new int[k];
      int[] endPos = new int[k];
      int[] regionOfWindow = new int[k + 1];
      int count = 0;
      int j = 1;
      while (j < k) {
        int a = lo[j];
        int b = hi[j];
        regionOfWindow[j] = count;
        while (j + 1 < k && lo[j + 1] <= b && posRegion[lo[j + 1]] == posRegion[a]) {
          j++;
          b = Math.max(b, hi[j]);
          regionOfWindow[j] = count;
        }
        startPos[count] = a;
        endPos[count] = b;
        count++;
        j++;
      }
      return new int[][] {Arrays.copyOf(startPos, count), Arrays.copyOf(endPos, count), regionOfWindow};
    }

    /** The merged windows become the regions of the next level; their grid edges there, and prefixes. */
    void nextRegions(int[][] merged) {
      int[] startPos = merged[0];
      int[] endPos = merged[1];
      int count = startPos.length;
      int[] newStart = new int[count];
      double[] newW = new double[count];
      double[] newS = new double[count];
      long[] newN = new long[count];
      int[] newOff = new int[count + 1];
      int[] newCellBase = new int[count + 1];
      for (int r = 0; r < count; r++) {
        newStart[r] = posEdge[startPos[r]] << REFINE_BITS;
        newW[r] = posW[startPos[r]];
        newS[r] = posS[startPos[r]];
        newN[r] = posN[startPos[r]];
        newOff[r + 1] = newOff[r] + (int) (posN[endPos[r]] - posN[startPos[r]]);
        newCellBase[r + 1] = newCellBase[r] + ((posEdge[endPos[r]] - posEdge[startPos[r]]) << REFINE_BITS);
      }
      int[] regionOfWindow = merged[2];
      for (int j = 1; j < k; j++) {
        winLoEdge[j] = posEdge[lo[j]] << REFINE_BITS;
        winHiEdge[j] = posEdge[hi[j]] << REFINE_BITS;
        winRegion[j] = regionOfWindow[j];
      }
      regions = count;
      regStart = newStart;
      regW = newW;
      regS = newS;
      regN = newN;
      regOff = newOff;
      cellBase = newCellBase;
    }

    /** The next level's cells of the windows summed from the first pass's histogram: no pass over the values. */
    void refineFromFirstPass() {
      nextRegions(mergedWindows());
      level++;
      int bits = REFINE_BITS * (FIRST_LEVELS - level);
      int total = cellBase[regions];
      cellN = new int[total];
      cellW = new double[total];
      cellS = new double[total];
      for (int r = 0; r < regions; r++) {
        int length = cellBase[r + 1] - cellBase[r];
        for (int c = 0; c < length; c++) {
          int at = cellBase[r] + c;
          int firstCell = (regStart[r] + c) << bits;
          for (int f = firstCell; f < firstCell + (1 << bits); f++) {
            cellN[at] += firstN[f];
            cellW[at] += firstW == null ? firstN[f] : firstW[f];
            cellS[at] += firstS[f];
          }
        }
      }
    }

    /**
     * For each value of the current regions, the merged window (index) holding its cell, or -1: a table over
     * the whole grid while the values are only in the input, else over the regions' cells.
     */
    int[] windowOfCell(int[][] merged) {
      int[] startPos = merged[0];
      int[] endPos = merged[1];
      int[] table = new int[inInput ? gridSize() : cellBase[regions]];
      Arrays.fill(table, -1);
      for (int m = 0; m < startPos.length; m++) {
        int region = posRegion[startPos[m]];
        int shift = inInput ? 0 : cellBase[region] - regStart[region];
        for (int c = posEdge[startPos[m]]; c < posEdge[endPos[m]]; c++) {
          table[c + shift] = m;
        }
      }
      return table;
    }

    /** Gathers the values of the merged windows into the next level's regions and histograms them. */
    void refine() {
      int[][] merged = mergedWindows();
      int[] table = windowOfCell(merged);
      int[] oldRegStart = regStart;
      int[] oldCellBase = cellBase;
      int[] oldOff = regOff;
      int oldRegions = regions;
      boolean fromInput = inInput;
      double lowest = min;
      double scale = scale();
      int size = gridSize();
      nextRegions(merged);
      double finer = Math.scalb(scale, REFINE_BITS);
      int finerSize = size << REFINE_BITS;
      int count = regions;
      boolean weighted = weights != null;
      // while the windows hold much of a large input, histogram it again instead of copying (memory)
      boolean gather = !fromInput || regOff[count] <= (to - from) / 4 || regOff[count] < 1 << 16
          || finerSize > 1 << 20;
      if (gather) {
        buffers.ensure(regOff[count], weighted);
      }
      float[] dest = gather ? buffers.b : null;
      float[] destW = gather ? buffers.bw : null;
      int[] write = Arrays.copyOf(regOff, count);
      int cellTotal = cellBase[count];
      double[] nextW = new double[cellTotal];
      double[] nextS = new double[cellTotal];
      int[] nextN = new int[cellTotal];
      int[] base = new int[count];
      for (int r = 0; r < count; r++) {
        base[r] = cellBase[r] - regStart[r];
      }
      if (fromInput) {
        for (int i = from; i < to; i++) {
          float w = weighted ? weights[i - from] : 1f;
          if (weighted && !(w > 0)) {
            continue;
          }
          float x = values[i];
          int r = table[cell(x, lowest, scale, size)];
          if (r >= 0) {
            if (gather) {
              int at = write[r]++;
              dest[at] = x;
              if (weighted) {
                destW[at] = w;
              }
            }
            int c = base[r] + cell(x, lowest, finer, finerSize);
            nextN[c]++;
            nextW[c] += w;
            nextS[c] += weighted ? (double) w * x : x;
          }
        }
      } else {
        float[] source = buffers.a;
        float[] sourceW = buffers.aw;
        for (int old = 0; old < oldRegions; old++) {
          int shift = oldCellBase[old] - oldRegStart[old];
          for (int i = oldOff[old]; i < oldOff[old + 1]; i++) {
            float x = source[i];
            int r = table[shift + cell(x, lowest, scale, size)];
            if (r >= 0) {
              float w = weighted ? sourceW[i] : 1f;
              int at = write[r]++;
              dest[at] = x;
              if (weighted) {
                destW[at] = w;
              }
              int c = base[r] + cell(x, lowest, finer, finerSize);
              nextN[c]++;
              nextW[c] += w;
              nextS[c] += weighted ? (double) w * x : x;
            }
          }
        }
      }
      if (gather) {
        buffers.swap();
        inInput = false;
      }
      cellW = nextW;
      cellS = nextS;
      cellN = nextN;
      level++;
    }

    /** Sorts the values of the merged windows and runs the exact DP over their distinct values. */
    double[] finish() {
      int[][] merged = mergedWindows();
      int[] startPos = merged[0];
      int[] endPos = merged[1];
      int[] regionOfWindow = merged[2];
      int count = startPos.length;
      int[] table = windowOfCell(merged);
      int[] off = new int[count + 1];
      for (int r = 0; r < count; r++) {
        off[r + 1] = off[r] + (int) (posN[endPos[r]] - posN[startPos[r]]);
      }
      boolean weighted = weights != null;
      // sort keys: the order key of the value in the high half, the bits of its weight in the low half
      long[] keyed = new long[off[count]];
      int[] write = Arrays.copyOf(off, count);
      double lowest = min;
      double scale = scale();
      int size = gridSize();
      if (inInput) {
        for (int i = from; i < to; i++) {
          float w = weighted ? weights[i - from] : 1f;
          if (weighted && !(w > 0)) {
            continue;
          }
          float x = values[i];
          int r = table[cell(x, lowest, scale, size)];
          if (r >= 0) {
            keyed[write[r]++] = (long) FloatKeys.key(x) << 32 | (Float.floatToRawIntBits(w) & 0xffffffffL);
          }
        }
      } else {
        float[] source = buffers.a;
        float[] sourceW = buffers.aw;
        for (int old = 0; old < regions; old++) {
          int shift = cellBase[old] - regStart[old];
          for (int i = regOff[old]; i < regOff[old + 1]; i++) {
            float x = source[i];
            int r = table[shift + cell(x, lowest, scale, size)];
            if (r >= 0) {
              float w = weighted ? sourceW[i] : 1f;
              keyed[write[r]++] = (long) FloatKeys.key(x) << 32 | (Float.floatToRawIntBits(w) & 0xffffffffL);
            }
          }
        }
      }
      // fine positions: the start, per merged window its start and the end of each run of equal values, the end
      int capacity = 2 + count + keyed.length;
      double[] fineW = new double[capacity];
      double[] fineS = new double[capacity];
      int[] fineEdge = new int[capacity];
      int[] windowFirst = new int[count + 1];
      int p = 1;
      for (int r = 0; r < count; r++) {
        Arrays.sort(keyed, off[r], off[r + 1]);
        windowFirst[r] = p;
        double w = posW[startPos[r]];
        double s = posS[startPos[r]];
        fineW[p] = w;
        fineS[p] = s;
        fineEdge[p] = posEdge[startPos[r]];
        p++;
        int i = off[r];
        while (i < off[r + 1]) {
          int key = (int) (keyed[i] >> 32);
          float x = FloatKeys.value(key);
          double runW = 0;
          while (i < off[r + 1] && (int) (keyed[i] >> 32) == key) {
            runW += Float.intBitsToFloat((int) keyed[i]);
            i++;
          }
          w += runW;
          s += runW * x;
          fineW[p] = w;
          fineS[p] = s;
          // the smallest grid edge at or right of the split just after x
          fineEdge[p] = cell(x, lowest, scale, size) + 1;
          p++;
        }
      }
      windowFirst[count] = p;
      fineW[p] = totalW;
      fineS[p] = totalS;
      int fineCount = p + 1;
      int[] fineLo = new int[k + 1];
      int[] fineHi = new int[k + 1];
      fineLo[k] = fineCount - 1;
      fineHi[k] = fineCount - 1;
      for (int j = 1; j < k; j++) {
        int r = regionOfWindow[j];
        int first = windowFirst[r];
        int last = windowFirst[r + 1] - 1;
        int loEdge = posEdge[lo[j]];
        int hiEdge = posEdge[hi[j]];
        int a = first;
        while (a < last && fineEdge[a + 1] <= loEdge) {
          a++;
        }
        int b = a;
        while (b < last && fineEdge[b + 1] <= hiEdge) {
          b++;
        }
        fineLo[j] = a;
        // the split just after the window's last value may lie beyond its right edge
        fineHi[j] = Math.min(last, b + 1);
      }
      for (int j = 2; j < k; j++) {
        fineLo[j] = Math.max(fineLo[j], fineLo[j - 1]);
      }
      for (int j = k - 2; j >= 1; j--) {
        fineHi[j] = Math.min(fineHi[j], fineHi[j + 1]);
      }
      posW = fineW;
      posS = fineS;
      npos = fineCount;
      lo = fineLo;
      hi = fineHi;
      double[][] forward = new double[k + 1][];
      int[][] choice = new int[k + 1][];
      forward[0] = new double[] {0};
      for (int j = 1; j <= k; j++) {
        int length = hi[j] - lo[j] + 1;
        forward[j] = new double[length];
        choice[j] = new int[length];
        forwardLayer(forward[j - 1], lo[j - 1], forward[j], choice[j], lo[j], 0, length - 1, lo[j - 1], hi[j - 1]);
      }
      int[] boundary = new int[k + 1];
      boundary[k] = npos - 1;
      for (int j = k; j >= 1; j--) {
        boundary[j - 1] = choice[j][boundary[j] - lo[j]];
      }
      double[] centroid = new double[k];
      int out = 0;
      for (int j = 0; j < k; j++) {
        double w = posW[boundary[j + 1]] - posW[boundary[j]];
        if (w > 0) {
          centroid[out++] = (posS[boundary[j + 1]] - posS[boundary[j]]) / w;
        }
      }
      return Arrays.copyOf(centroid, out);
    }
  }
}
