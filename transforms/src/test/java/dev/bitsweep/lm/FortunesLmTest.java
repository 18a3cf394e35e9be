package dev.bitsweep.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.TestModels;
import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.encode.WeightEncoder;
import dev.bitsweep.onnx.external.ExternalDataWriter;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trained fortunes LM (calibration-data/fortunes-lm, tools/fixtures/train_fortunes_lm.py) in ONNX Runtime Java:
 * its eval perplexity is the one torch measured and far below the 256-byte vocabulary, and compressing its MatMul
 * weights with bitsweep's own kernels and encodings visibly raises it.
 */
class FortunesLmTest {
  private static final Path DIR = TestModels.repositoryRoot().resolve("calibration-data/fortunes-lm");
  private static final int VOCAB = 256;

  @Test
  void perplexityMatchesTorchAndCompressionChangesIt(@TempDir Path tmp) throws Exception {
    Path model = DIR.resolve("model.onnx");
    NpyArray ids = NpyArray.read(DIR.resolve("eval/input_ids.npy"));
    int n = ids.samples();
    int t = (int) ids.shape()[1];
    long[] tokens = ids.longs(0, n);
    float[] original = logits(model, tokens, n, t);

    float[] reference = NpyArray.read(DIR.resolve("reference/eval_logits_first2.npy")).floats(0, 2);
    for (int i = 0; i < reference.length; i++) {
      assertEquals(reference[i], original[i], 2e-4f * (1 + Math.abs(reference[i])), "logit " + i);
    }
    double fp32 = NextTokenStatistics.perplexity(FloatBuffer.wrap(original), tokens, null, n, t, VOCAB);
    assertEquals(manifestPerplexity(), fp32, 1e-4 * fp32, "ONNX Runtime agrees with torch");
    assertTrue(fp32 < 16, "a trained byte-level model: perplexity " + fp32 + " far below the vocabulary of 256");

    NextTokenStatistics.Scores rtn3 = compare(model, original, tokens, n, t, tmp.resolve("rtn3"),
        Map.of("method", "rtn", "nbits", 3));
    NextTokenStatistics.Scores kmeans4 = compare(model, original, tokens, n, t, tmp.resolve("kmeans4"),
        Map.of("method", "palettize", "mode", "kmeans", "nbits", 4, "granularity", "per_tensor"));
    NextTokenStatistics.Scores int8 = compare(model, original, tokens, n, t, tmp.resolve("int8"),
        Map.of("method", "linear_quantize", "mode", "linear_symmetric", "dtype", "int8", "granularity", "per_channel"));
    System.out.printf("fortunes-lm eval perplexity: fp32 %.4f; int8 per-channel %.4f (KL %.5f, agreement %.4f);"
            + " k-means 4-bit per tensor %.4f (KL %.5f, agreement %.4f); RTN 3-bit per channel %.4f (KL %.5f,"
            + " agreement %.4f)%n", fp32, int8.perplexity(), int8.klDivergence(), int8.tokenAgreement(),
        kmeans4.perplexity(), kmeans4.klDivergence(), kmeans4.tokenAgreement(), rtn3.perplexity(),
        rtn3.klDivergence(), rtn3.tokenAgreement());
    assertEquals(fp32, rtn3.baselinePerplexity(), 0);
    assertTrue(rtn3.perplexity() > 1.02 * fp32, "RTN 3-bit visibly raises perplexity: " + rtn3);
    assertTrue(rtn3.klDivergence() > 0.02, "" + rtn3);
    assertTrue(kmeans4.perplexity() > fp32 * 1.001 && kmeans4.klDivergence() > 0.001, "" + kmeans4);
    assertTrue(Math.abs(int8.perplexity() - fp32) < 0.01 * fp32 && int8.tokenAgreement() > 0.97, "int8 is close: " + int8);
    assertTrue(int8.klDivergence() < kmeans4.klDivergence() && kmeans4.klDivergence() < rtn3.klDivergence(),
        "more bits, less divergence");
  }

  /** Every MatMul weight compressed with {@code fields}, encoded as bitsweep packages do, run in ONNX Runtime. */
  private static NextTokenStatistics.Scores compare(Path model, float[] original, long[] tokens, int n, int t, Path dir,
      Map<String, Object> fields) throws Exception {
    OnnxModel source = OnnxModel.read(model);
    CompressionConfig config = Methods.ALL.parse(fields);
    Onnx.ModelProto.Builder builder = source.proto().toBuilder();
    WeightEncoder encoder = WeightEncoder.forModel(builder);
    int layers = 0;
    for (Layer layer : LayerFinder.find(source.proto(), 2048).layers()) {
      if (!layer.opType().equals("MatMul")) {
        continue;
      }
      CompressedWeights compressed = Methods.ALL.compress(config, WeightReader.read(source, layer)).weights();
      encoder.encode(builder.getGraphBuilder(), layer.tensorName(), layer.shape(), layer.outputAxis(), compressed);
      layers++;
    }
    assertEquals(6 * 6 + 1, layers, "q, k, v, o, up, down per block and lm_head");
    Path pkg = dir.resolve("model.onnx");
    ExternalDataWriter.write(builder.build(), source.directory(), Map.of(), pkg);
    float[] compressed = logits(pkg, tokens, n, t);
    return NextTokenStatistics.of(FloatBuffer.wrap(original), FloatBuffer.wrap(compressed), tokens, null, n, t, VOCAB)
        .finish();
  }

  private static float[] logits(Path model, long[] tokens, int n, int t) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[] out = new float[n * t * VOCAB];
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      options.addConfigEntry("session.disable_quant_qdq", "1");
      try (OrtSession session = env.createSession(model.toString(), options)) {
        int batch = 8;
        for (int from = 0; from < n; from += batch) {
          int rows = Math.min(batch, n - from);
          long[] slice = java.util.Arrays.copyOfRange(tokens, from * t, (from + rows) * t);
          try (OnnxTensor input = OnnxTensor.createTensor(env, LongBuffer.wrap(slice), new long[] {rows, t});
              OrtSession.Result result = session.run(Map.of("input_ids", input))) {
            ((OnnxTensor) result.get(0)).getFloatBuffer().get(out, from * t * VOCAB, rows * t * VOCAB);
          }
        }
      }
    }
    return out;
  }

  private static double manifestPerplexity() throws Exception {
    Matcher m = Pattern.compile("(?m)^  eval_perplexity: ([0-9.]+)$").matcher(Files.readString(DIR.resolve("manifest.yaml")));
    assertTrue(m.find(), "manifest.yaml records model.eval_perplexity");
    return Double.parseDouble(m.group(1));
  }
}
