package dev.bitsweep.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bitsweep.compress.WeightMatrix;
import org.junit.jupiter.api.Test;

class OutputErrorTest {

  @Test
  void equalsTheSquaredChangeOfTheLayerOutputs() {
    int tokens = 40;
    int cols = 12;
    float[] x = Layers.correlatedTokens(tokens, cols, 41);
    WeightMatrix original = Layers.gaussianWeights(5, cols, 42);
    WeightMatrix compressed = RoundToNearest.quantize(original, 3, 0, true).decompress();

    double direct = 0;
    for (int t = 0; t < tokens; t++) {
      for (int r = 0; r < 5; r++) {
        double change = 0;
        for (int c = 0; c < cols; c++) {
          change += ((double) original.get(r, c) - compressed.get(r, c)) * x[t * cols + c];
        }
        direct += change * change;
      }
    }
    assertEquals(direct, OutputError.of(original, compressed, Layers.hessian(x, tokens, cols)), 1e-9 * direct);
  }

  @Test
  void groupedHessiansWeighTheirOwnRows() {
    WeightMatrix original = new WeightMatrix(new float[] {1, 2, 3, 4}, 2, 2);
    WeightMatrix compressed = new WeightMatrix(new float[] {0, 2, 3, 3}, 2, 2);
    double[] hessians = {2, 1, 1, 5, /* group 1: */ 7, 0, 0, 3};
    // row 0: Δ = (1, 0) with H0 → 2; row 1: Δ = (0, 1) with H1 → 3
    assertEquals(5.0, OutputError.of(original, compressed, hessians), 0);
  }

  @Test
  void sensitivityIsTheHessianDiagonalPerColumn() {
    double[] hessians = {2, 1, 1, 5, 7, 0, 0, 3};
    assertArrayEquals(new float[] {2, 5, 7, 3}, SensitivityWeights.fromHessianDiagonal(hessians, 2, 2));
    assertArrayEquals(new float[] {2, 5, 2, 5},
        SensitivityWeights.fromHessianDiagonal(new double[] {2, 1, 1, 5}, 2, 2));
  }

  @Test
  void mismatchedHessianIsRejected() {
    WeightMatrix w = new WeightMatrix(new float[6], 2, 3);
    var error = assertThrows(IllegalArgumentException.class, () -> OutputError.of(w, w, new double[4]));
    assertEquals(true, error.getMessage().contains("needs 9 values per group"), error.getMessage());
  }
}
