package dev.bitsweep.compress;

import dev.bitsweep.compress.PalettizeConfig.LutDtype;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Palettization of one layer ({@link PalettizeConfig}). For each group of output channels: build a table of
 * 2^nbits entries from the group's (optionally channel-normalised) weights, store it in the table dtype, then
 * give every weight the index of the nearest stored entry. Groups are independent and run in parallel; a single
 * per-tensor group parallelises inside instead. Results do not depend on the thread count.
 *
 * <p>Channel scales ({@code enable_per_channel_scale}) are each row's largest magnitude rounded to fp16, so they
 * decode exactly whether the encoder stores them as fp16 or fp32. A table stored as int8/uint8 is linearly
 * quantized per group ({@link LinearQuantizer#affine}) and the indices are chosen against the decoded table.
 */
public final class Palettizer {
  private Palettizer() {}

  public static PalettizedWeights palettize(PalettizeConfig config, WeightMatrix weights) {
    return palettize(config, weights, null);
  }

  /** Weighted palettization: {@code importance} (one non-negative value per weight, or null) weights the error. */
  public static PalettizedWeights palettize(PalettizeConfig config, WeightMatrix weights, float[] importance) {
    return palettize(config, weights, importance, null);
  }

  /**
   * Palettizes only the weights whose bit is set in {@code keptMask} (SparseWeights layout; null = all): the
   * others neither shape the table nor constrain their index (0).
   */
  static PalettizedWeights palettize(PalettizeConfig config, WeightMatrix weights, float[] importance,
      byte[] keptMask) {
    WeightChecks.requireFinite(weights);
    WeightChecks.requireImportance(importance, weights);
    config.validateFor(weights.rows(), weights.cols());
    return new Run(config, weights, importance, keptMask).run();
  }

  private static final class Run {
    final PalettizeConfig config;
    final float[] values;
    final float[] importance;
    final byte[] kept;
    final int rows;
    final int cols;
    final int groupRows;
    final int groups;
    final int tableSize;
    final int dim;
    final float[] channelScales;
    final float[] tables;
    final byte[] tableCodes;
    final float[] tableScales;
    final int[] tableZeroPoints;
    final byte[] indices;

    Run(PalettizeConfig config, WeightMatrix weights, float[] importance, byte[] kept) {
      this.config = config;
      this.values = weights.values();
      this.importance = importance;
      this.kept = kept;
      this.rows = weights.rows();
      this.cols = weights.cols();
      this.groupRows = config.rowsPerTable(rows);
      this.groups = rows / groupRows;
      this.tableSize = config.tableSize();
      this.dim = config.clusterDim();
      this.channelScales = config.enablePerChannelScale() ? channelScales() : null;
      this.tables = new float[groups * tableSize * dim];
      boolean quantizedTable = config.lutDtype() == LutDtype.INT8 || config.lutDtype() == LutDtype.UINT8;
      this.tableCodes = quantizedTable ? new byte[tables.length] : null;
      this.tableScales = quantizedTable ? new float[groups] : null;
      this.tableZeroPoints = quantizedTable ? new int[groups] : null;
      this.indices = new byte[rows * cols / dim];
    }

    PalettizedWeights run() {
      if (groups == 1) {
        palettizeGroup(0, true);
      } else {
        IntStream.range(0, groups).parallel().forEach(g -> palettizeGroup(g, false));
      }
      PalettizedWeights.TableType tableType = switch (config.lutDtype()) {
        case FP16 -> PalettizedWeights.TableType.FLOAT16;
        case FP32 -> PalettizedWeights.TableType.FLOAT32;
        case INT8 -> PalettizedWeights.TableType.INT8;
        case UINT8 -> PalettizedWeights.TableType.UINT8;
      };
      return new PalettizedWeights(rows, cols, config.nbits(), groupRows, dim, tableType, tables, tableCodes,
          tableScales, tableZeroPoints, indices, channelScales);
    }

    boolean isKept(int i) {
      return kept == null || (kept[i >>> 3] >>> (i & 7) & 1) != 0;
    }

    float normalised(int i) {
      return channelScales == null ? values[i] : values[i] / channelScales[i / cols];
    }

    private float[] channelScales() {
      float[] scales = new float[rows];
      for (int r = 0; r < rows; r++) {
        float max = 0;
        for (int i = r * cols; i < (r + 1) * cols; i++) {
          if (isKept(i)) {
            max = Math.max(max, Math.abs(values[i]));
          }
        }
        float scale = Float16.round(max);
        if (Float.isInfinite(scale)) {
          throw new ConfigException("enable_per_channel_scale", "output channel " + r + " has magnitude " + max
              + ", beyond the fp16 range of channel scales; disable per-channel scaling for this layer");
        }
        scales[r] = scale > 0 ? scale : 1f;
      }
      return scales;
    }

    void palettizeGroup(int group, boolean parallelInside) {
      int from = group * groupRows * cols;
      int to = from + groupRows * cols;
      float[] raw = dim == 1 ? scalarTable(group, from, to) : vectorTable(group, from, to);
      float[] stored = store(group, raw);
      if (dim == 1) {
        assignScalar(stored, from, to, parallelInside);
      } else {
        assignVectors(stored, from, to, parallelInside);
      }
    }

    /** The group's table in ascending order (at most tableSize entries, before storage rounding). */
    private float[] scalarTable(int group, int from, int to) {
      if (kept == null && channelScales == null && importance == null
          && config.mode() == PalettizeConfig.Mode.KMEANS) {
        // the group's weights as they are: no copy
        return toFloats(groups == 1 ? OptimalKMeans1D.centroids(values, values.length, null, tableSize)
            : OptimalKMeans1D.centroids(values, from, to, null, tableSize));
      }
      int n = 0;
      for (int i = from; i < to; i++) {
        if (isKept(i)) {
          n++;
        }
      }
      float[] groupValues = new float[n];
      float[] groupImportance = importance == null ? null : new float[n];
      int p = 0;
      for (int i = from; i < to; i++) {
        if (isKept(i)) {
          groupValues[p] = normalised(i);
          if (groupImportance != null) {
            groupImportance[p] = importance[i];
          }
          p++;
        }
      }
      if (n == 0 && config.mode() != PalettizeConfig.Mode.CUSTOM) {
        return new float[] {0f};
      }
      return switch (config.mode()) {
        case KMEANS -> toFloats(OptimalKMeans1D.centroids(groupValues, n, groupImportance, tableSize));
        case UNIFORM -> uniformTable(groupValues);
        case UNIQUE -> uniqueTable(group, groupValues);
        case CUSTOM -> customTable();
      };
    }

    private float[] uniformTable(float[] groupValues) {
      float min = Float.POSITIVE_INFINITY;
      float max = Float.NEGATIVE_INFINITY;
      for (float v : groupValues) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      float[] table = new float[tableSize];
      for (int j = 0; j < tableSize; j++) {
        table[j] = (float) (min + (double) j * ((double) max - min) / (tableSize - 1));
      }
      table[tableSize - 1] = max;
      return table;
    }

    private float[] uniqueTable(int group, float[] groupValues) {
      OptimalKMeans1D.Points distinct = OptimalKMeans1D.sortedPoints(groupValues, null, groupValues.length);
      if (distinct.size() > tableSize) {
        throw new ConfigException("nbits", "mode unique needs at most " + tableSize + " distinct values per table but "
            + (groups == 1 ? "the layer" : "group " + group) + " has " + distinct.size()
            + "; use mode kmeans or a larger nbits");
      }
      return toFloats(distinct.value());
    }

    private float[] customTable() {
      float[] table = new float[config.customLut().size()];
      for (int j = 0; j < table.length; j++) {
        table[j] = config.customLut().get(j).floatValue();
      }
      Arrays.sort(table);
      return table;
    }

    private float[] vectorTable(int group, int from, int to) {
      int n = (to - from) / dim;
      float[] data = new float[to - from];
      float[] weights = importance == null && kept == null ? null : new float[to - from];
      for (int i = from; i < to; i++) {
        data[i - from] = normalised(i);
        if (weights != null) {
          weights[i - from] = isKept(i) ? (importance == null ? 1f : importance[i]) : 0f;
        }
      }
      return VectorKMeans.centroids(data, weights, n, dim, tableSize, 0x5eed_0000L + group);
    }

    /** Pads the raw table to tableSize entries, stores it in the table dtype, returns the decoded entries. */
    private float[] store(int group, float[] raw) {
      int width = tableSize * dim;
      float[] padded = Arrays.copyOf(raw, width);
      for (int i = raw.length; i < width; i++) {
        padded[i] = raw.length >= dim ? raw[raw.length - dim + (i % dim)] : 0f;
      }
      float[] decoded = new float[width];
      int base = group * width;
      switch (config.lutDtype()) {
        case FP32 -> System.arraycopy(padded, 0, decoded, 0, width);
        case FP16 -> {
          for (int i = 0; i < width; i++) {
            decoded[i] = Float16.round(padded[i]);
            if (Float.isInfinite(decoded[i])) {
              throw new ConfigException("lut_dtype", "table value " + padded[i] + " is beyond the fp16 range; use "
                  + "lut_dtype fp32 or enable_per_channel_scale");
            }
          }
        }
        case INT8, UINT8 -> {
          QuantDtype dtype = config.lutDtype() == LutDtype.INT8 ? QuantDtype.INT8 : QuantDtype.UINT8;
          float min = Float.POSITIVE_INFINITY;
          float max = Float.NEGATIVE_INFINITY;
          for (float v : padded) {
            min = Math.min(min, v);
            max = Math.max(max, v);
          }
          LinearQuantizer.Params params = LinearQuantizer.affine(min, max, dtype);
          tableScales[group] = params.scale();
          tableZeroPoints[group] = params.zeroPoint();
          for (int i = 0; i < width; i++) {
            int code = LinearQuantizer.code(padded[i], params.scale(), params.zeroPoint(), dtype);
            tableCodes[base + i] = (byte) code;
            decoded[i] = LinearQuantizer.decode(code, params.scale(), params.zeroPoint());
          }
        }
      }
      if (config.mode() == PalettizeConfig.Mode.UNIQUE) {
        for (int i = 0; i < raw.length; i++) {
          if (decoded[i] != raw[i]) {
            throw new ConfigException("lut_dtype", "mode unique is lossless only if the table dtype holds every "
                + "value exactly, but " + raw[i] + " becomes " + decoded[i] + " in " + Choices.id(config.lutDtype())
                + "; use lut_dtype fp32");
          }
        }
      }
      System.arraycopy(decoded, 0, tables, base, width);
      return decoded;
    }

    /** Nearest stored entry by binary search over the midpoints of the ascending table. */
    private void assignScalar(float[] table, int from, int to, boolean parallelInside) {
      double[] midpoints = new double[tableSize];
      Arrays.fill(midpoints, Double.POSITIVE_INFINITY);
      for (int j = 0; j + 1 < tableSize; j++) {
        midpoints[j] = ((double) table[j] + table[j + 1]) / 2;
      }
      int rowsInGroup = (to - from) / cols;
      int firstRow = from / cols;
      IntStream rowStream = IntStream.range(firstRow, firstRow + rowsInGroup);
      (parallelInside ? rowStream.parallel() : rowStream).forEach(r -> {
        for (int i = r * cols; i < (r + 1) * cols; i++) {
          if (!isKept(i)) {
            continue;
          }
          float v = normalised(i);
          int index = 0;
          for (int step = tableSize >>> 1; step > 0; step >>>= 1) {
            if (midpoints[index + step - 1] < v) {
              index += step;
            }
          }
          indices[i] = (byte) index;
        }
      });
    }

    /** Nearest stored vector (weighted distance when importance or a mask is present), row by row. */
    private void assignVectors(float[] table, int from, int to, boolean parallelInside) {
      int firstRow = from / cols;
      IntStream rowStream = IntStream.range(firstRow, to / cols);
      (parallelInside ? rowStream.parallel() : rowStream).forEach(r -> {
        float[] vector = new float[dim];
        float[] weight = importance == null && kept == null ? null : new float[dim];
        for (int v = r * cols / dim; v < (r + 1) * cols / dim; v++) {
          for (int d = 0; d < dim; d++) {
            int i = v * dim + d;
            vector[d] = normalised(i);
            if (weight != null) {
              weight[d] = isKept(i) ? (importance == null ? 1f : importance[i]) : 0f;
            }
          }
          indices[v] = (byte) VectorKMeans.nearest(vector, weight, 0, dim, table, tableSize);
        }
      });
    }

    private static float[] toFloats(double[] values) {
      float[] out = new float[values.length];
      for (int i = 0; i < values.length; i++) {
        out[i] = (float) values[i];
      }
      return out;
    }
  }
}
