package dev.bitsweep.calibrate;

import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.ScaleDtype;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.compress.WeightMatrix;

/**
 * The uncalibrated baseline on GPTQ's own grid: every weight rounded to the nearest level of its row's (or group's)
 * scale fit to the original weights. Comparing GPTQ against this isolates the gain of the error feedback.
 */
public final class RoundToNearest {
  private RoundToNearest() {}

  public static QuantizedWeights quantize(WeightMatrix w, int nbits, int groupSize, boolean symmetric) {
    return quantize(w, nbits, groupSize, symmetric, ScaleDtype.FLOAT32);
  }

  public static QuantizedWeights quantize(WeightMatrix w, int nbits, int groupSize, boolean symmetric,
      ScaleDtype scaleDtype) {
    GptqGrid grid = new GptqGrid(nbits, symmetric, scaleDtype);
    int rows = w.rows();
    int cols = w.cols();
    int span = groupSize == 0 ? cols : groupSize;
    int scalesPerRow = QuantizedWeights.blocksPerRow(cols, span);
    float[] values = w.values();
    byte[] codes = new byte[rows * cols];
    float[] scales = new float[rows * scalesPerRow];
    int[] zeros = new int[rows * scalesPerRow];
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < scalesPerRow; g++) {
        int first = g * span;
        int end = Math.min(cols, first + span);
        int s = r * scalesPerRow + g;
        grid.fit(values, r * cols + first, end - first, 1, scales, zeros, s);
        for (int c = first; c < end; c++) {
          codes[r * cols + c] = (byte) grid.code(values[r * cols + c], scales[s], zeros[s]);
        }
      }
    }
    return new QuantizedWeights(rows, cols, grid.dtype(),
        groupSize == 0 ? Granularity.PER_CHANNEL : Granularity.PER_BLOCK, groupSize, codes, scales,
        symmetric ? null : zeros, nbits);
  }
}
