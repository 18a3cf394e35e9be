package dev.bitsweep.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HessianAccumulatorTest {

  @Test
  void accumulatesXTransposeXCountAndRange() {
    int dim = 24;
    float[] x = Layers.correlatedTokens(5000, dim, 31); // more rows than one BLAS batch
    HessianAccumulator accumulator = HessianAccumulator.forMatMul("fc1", dim);
    accumulator.addRows(x, 5000);
    LayerStatistics stats = accumulator.toStatistics();

    double[] expected = Layers.hessian(x, 5000, dim);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], stats.hessian()[i], 1e-9 * Math.abs(expected[i]) + 1e-9, "H element " + i);
    }
    assertEquals(5000, stats.rows());
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (float v : x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertEquals(min, stats.min());
    assertEquals(max, stats.max());
  }

  @Test
  void partialsMergeToTheWholeAndSurviveSerialization() throws Exception {
    int dim = 8;
    float[] x = Layers.correlatedTokens(100, dim, 32);
    HessianAccumulator whole = HessianAccumulator.forMatMul("fc", dim);
    whole.addRows(x, 100);
    HessianAccumulator first = HessianAccumulator.forMatMul("fc", dim);
    first.addRows(Arrays.copyOfRange(x, 0, 30 * dim), 30);
    HessianAccumulator second = HessianAccumulator.forMatMul("fc", dim);
    second.addRows(Arrays.copyOfRange(x, 30 * dim, 100 * dim), 70);

    HessianAccumulator merged = roundTrip(first).merge(roundTrip(second));
    LayerStatistics expected = whole.toStatistics();
    LayerStatistics got = merged.toStatistics();
    assertEquals(100, got.rows());
    assertEquals(expected.min(), got.min());
    assertEquals(expected.max(), got.max());
    for (int i = 0; i < dim * dim; i++) {
      assertEquals(expected.hessian()[i], got.hessian()[i], 1e-9 * Math.abs(expected.hessian()[i]));
    }
    LayerStatistics viaStatistics = first.toStatistics().merge(roundTrip(second.toStatistics()));
    assertArrayEquals(got.hessian(), viaStatistics.hessian(), 1e-9);
    HessianAccumulator viaAdd = HessianAccumulator.forMatMul("fc", dim);
    viaAdd.add(first.toStatistics());
    viaAdd.add(second.toStatistics());
    assertArrayEquals(got.hessian(), viaAdd.toStatistics().hessian(), 1e-9);
  }

  @Test
  void mergingDifferentLayersFails() {
    var error = assertThrows(IllegalArgumentException.class,
        () -> HessianAccumulator.forMatMul("a", 4).merge(HessianAccumulator.forMatMul("b", 4)));
    assertTrue(error.getMessage().contains("b") && error.getMessage().contains("a"), error.getMessage());
  }

  @Test
  void nonFiniteActivationsAreRejectedNamingTheLayer() {
    float[] x = new float[3 * 4];
    x[6] = Float.NaN;
    HessianAccumulator accumulator = HessianAccumulator.forMatMul("encoder.layer.2.attention.query", 4);
    var error = assertThrows(IllegalArgumentException.class, () -> accumulator.addRows(x, 3));
    assertTrue(error.getMessage().startsWith("encoder.layer.2.attention.query: "), error.getMessage());
    assertTrue(error.getMessage().contains("NaN") && error.getMessage().contains("row 1"), error.getMessage());
    assertEquals(0, accumulator.rows());

    float[] image = new float[2 * 3 * 3];
    image[4] = Float.POSITIVE_INFINITY;
    HessianAccumulator conv = new HessianAccumulator("conv1", 2 * 9, 1);
    assertThrows(IllegalArgumentException.class,
        () -> conv.addConvInput(image, new int[] {1, 2, 3, 3}, Im2col.Geometry.of(3, 1, 1)));
  }

  /**
   * For every output channel o of group g, Σ over output positions of the conv output y_o² equals w_o H_g w_oᵀ:
   * checks im2col's column order and the group-to-rows mapping against a direct convolution.
   */
  @ParameterizedTest(name = "C={0} Cout={1} k={2}x{3} stride={4} pad={5} dilation={6} groups={7}")
  @CsvSource({
      "3, 4, 3, 3, 1, 1, 1, 1",
      "4, 6, 3, 2, 2, 1, 2, 2",
      "6, 6, 3, 3, 1, 1, 1, 6",
      "4, 8, 1, 1, 1, 0, 1, 4"})
  void convHessianReproducesTheConvolutionOutputEnergy(int channels, int outChannels, int kh, int kw, int stride,
      int pad, int dilation, int groups) {
    int images = 2;
    int height = 7;
    int width = 6;
    Random random = new Random(33);
    float[] input = new float[images * channels * height * width];
    for (int i = 0; i < input.length; i++) {
      input[i] = (float) random.nextGaussian();
    }
    Im2col.Geometry conv = new Im2col.Geometry(kh, kw, stride, stride, pad, pad, pad, pad, dilation, dilation, groups);
    int dim = conv.patchSize(channels);
    float[] weight = new float[outChannels * dim]; // [Cout, C/g, kh, kw]
    for (int i = 0; i < weight.length; i++) {
      weight[i] = (float) random.nextGaussian();
    }
    HessianAccumulator accumulator = new HessianAccumulator("conv", dim, groups);
    accumulator.addConvInput(input, new int[] {images, channels, height, width}, conv);
    LayerStatistics stats = accumulator.toStatistics();

    int outH = conv.outputHeight(height);
    int outW = conv.outputWidth(width);
    assertEquals((long) images * outH * outW, stats.rows());
    int outPerGroup = outChannels / groups;
    int inPerGroup = channels / groups;
    for (int o = 0; o < outChannels; o++) {
      int g = o / outPerGroup;
      double energy = 0;
      for (int n = 0; n < images; n++) {
        for (int oh = 0; oh < outH; oh++) {
          for (int ow = 0; ow < outW; ow++) {
            double y = 0;
            for (int ci = 0; ci < inPerGroup; ci++) {
              for (int ki = 0; ki < kh; ki++) {
                for (int kj = 0; kj < kw; kj++) {
                  int yy = oh * stride - pad + ki * dilation;
                  int xx = ow * stride - pad + kj * dilation;
                  if (yy >= 0 && yy < height && xx >= 0 && xx < width) {
                    int c = g * inPerGroup + ci;
                    y += weight[o * dim + (ci * kh + ki) * kw + kj]
                        * input[((n * channels + c) * height + yy) * width + xx];
                  }
                }
              }
            }
            energy += y * y;
          }
        }
      }
      double quadratic = 0;
      double[] h = stats.hessian();
      for (int i = 0; i < dim; i++) {
        for (int j = 0; j < dim; j++) {
          quadratic += weight[o * dim + i] * h[g * dim * dim + i * dim + j] * weight[o * dim + j];
        }
      }
      assertEquals(energy, quadratic, 1e-6 * energy, "output channel " + o);
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T value) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
