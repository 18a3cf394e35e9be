package dev.bitsweep.onnx.encode;

import static dev.bitsweep.onnx.encode.EncodingCatalog.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.DenseWeights;
import dev.bitsweep.compress.PalettizedWeights;
import dev.bitsweep.compress.PalettizedWeights.TableType;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.compress.SparseWeights;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.onnx.proto.Onnx;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which components each opset gets (the preferred op where it exists), exact signed zeros, and bad input. */
class EncodingChoiceTest {

  static EncodedLayer encode(int opset, long[] shape, int axis, CompressedWeights weights) {
    return WeightEncoderTest.roundTrip(opset,
        new WeightEncoderTest.Case("choice", shape, axis, () -> weights));
  }

  static void assertUses(EncodedLayer layer, EncodingCatalog... expected) {
    assertTrue(layer.components().containsAll(List.of(expected)), layer.encoding() + " should use " + List.of(expected));
  }

  static void assertAvoids(EncodedLayer layer, EncodingCatalog... avoided) {
    for (EncodingCatalog c : avoided) {
      assertTrue(!layer.components().contains(c), layer.encoding() + " should not use " + c);
    }
  }

  @Test
  void quantizationUsesDequantizeLinearWhereTheOpsetHasTheForm() {
    long[] shape = {8, 64};
    QuantizedWeights perChannel = Forms.quantized(8, 64, QuantDtype.INT8, Granularity.PER_CHANNEL, 0, true, 1);
    assertUses(encode(7, shape, 0, perChannel), DEQUANT_ARITH);
    assertUses(encode(13, shape, 0, perChannel), DQ_AXIS);
    QuantizedWeights perTensor = Forms.quantized(8, 64, QuantDtype.UINT8, Granularity.PER_TENSOR, 0, false, 2);
    assertUses(encode(7, shape, 0, perTensor), DEQUANT_ARITH);
    assertUses(encode(13, shape, 0, perTensor), DQ_TENSOR);
    QuantizedWeights int4Blocks = Forms.quantized(8, 64, QuantDtype.INT4, Granularity.PER_BLOCK, 32, true, 3);
    assertUses(encode(17, shape, 0, int4Blocks), UNPACK_ARITH, DEQUANT_ARITH);
    EncodedLayer native4 = encode(21, shape, 0, int4Blocks);
    assertUses(native4, DQ_INT4, DQ_BLOCKED);
    assertEquals(List.of("DequantizeLinear"), native4.ops(), "opset 21 int4 blocks are one DequantizeLinear");
    assertEquals(21, native4.minOpset());
    QuantizedWeights int4Channel = Forms.quantized(8, 64, QuantDtype.UINT4, Granularity.PER_CHANNEL, 0, false, 4);
    assertUses(encode(13, shape, 0, int4Channel), UNPACK_ARITH, DQ_AXIS);
  }

  @Test
  void palettizationUnpacksBitwiseFromOpset18AndGroupsByOffset() {
    long[] shape = {8, 24};
    PalettizedWeights grouped = Forms.palettized(8, 24, 3, 2, 1, TableType.FLOAT16, false, 5);
    EncodedLayer old = encode(13, shape, 0, grouped);
    assertUses(old, UNPACK_ARITH, LUT_GROUPS, LUT_FP16);
    assertEquals(7, old.minOpset());
    EncodedLayer bitwise = encode(21, shape, 0, grouped);
    assertUses(bitwise, UNPACK_BITWISE);
    assertTrue(bitwise.ops().containsAll(Set.of("BitShift", "BitwiseAnd")), bitwise.ops().toString());
    assertEquals(18, bitwise.minOpset());
    assertEquals("1.14", bitwise.minOrtVersion());
    PalettizedWeights int8Table = Forms.palettized(8, 24, 2, 4, 1, TableType.INT8, false, 6);
    assertUses(encode(7, shape, 0, int8Table), LUT_INT8_ARITH);
    assertUses(encode(13, shape, 0, int8Table), LUT_INT8_DQ_AXIS);
  }

  @Test
  void sparsityUsesCumSumAndWhereWhereTheyExist() {
    long[] shape = {8, 24};
    SparseWeights sparse = Forms.sparse(Forms.dense(8, 24, 7), 0.5, 8);
    EncodedLayer old = encode(7, shape, 0, sparse);
    assertUses(old, SPARSE_MATMUL_PREFIX, MASK_MUL);
    assertAvoids(old, SPARSE_CUMSUM, MASK_WHERE);
    EncodedLayer modern = encode(13, shape, 0, sparse);
    assertUses(modern, SPARSE_CUMSUM, MASK_WHERE);
    assertEquals(11, modern.minOpset());
    assertTrue(modern.notes().isEmpty(), modern.notes().toString());
  }

  @Test
  void prunedWeightsAreExactlyPlusZeroAndKeptNegativeZeroStays() {
    float[] values = {-0.0f, -1.5f, 2f, -3f, -0.0f, 4f, -5f, 6f};
    byte[] mask = {(byte) 0b1010_0101}; // keeps 0 (-0.0), 2, 5, 7; prunes 1, 3, 4 (-0.0), 6
    SparseWeights sparse = new SparseWeights(2, 4, mask, new DenseWeights(new WeightMatrix(values, 2, 4)));
    float[] expected = {-0.0f, 0f, 2f, 0f, 0f, 4f, 0f, 6f};
    for (int opset : WeightEncoderTest.OPSETS) {
      Onnx.ModelProto model = TestModels.identity(opset, "W", new long[] {2, 4}, new float[8], DecodeGraph.FLOAT);
      Onnx.ModelProto.Builder encoded = model.toBuilder();
      EncodedLayer layer = WeightEncoder.forModel(model).encode(encoded.getGraphBuilder(), "W", new long[] {2, 4}, 0, sparse);
      assertUses(layer, MASK_MUL);
      WeightEncoderTest.assertBitsEqual(expected, OrtDecode.decodeWeight(encoded.build().toByteArray(), "Y"),
          "signed zeros at opset " + opset);
      WeightEncoderTest.assertBitsEqual(expected, sparse.decompress().values(), "reference");
    }
  }

  @Test
  void bfloat16WeightsDecodeFromOpset13() {
    long[] shape = {6, 8};
    PalettizedWeights weights = Forms.palettized(6, 8, 4, 6, 1, TableType.FLOAT32, false, 9);
    WeightEncoderTest.Case c = new WeightEncoderTest.Case("bf16", shape, 0, DecodeGraph.BFLOAT16, () -> weights);
    assertUses(WeightEncoderTest.roundTrip(13, c), CAST_BF16);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightEncoderTest.roundTrip(7, c));
    assertTrue(e.getMessage().contains("layer W is bfloat16"), e.getMessage());
  }

  private static Onnx.ModelProto.Builder model(long[] shape) {
    return TestModels.identity(13, "W", shape, new float[(int) (shape[0] * shape[1])], DecodeGraph.FLOAT).toBuilder();
  }

  @Test
  void badInputIsRejectedWithTheLayerNamed() {
    WeightEncoder encoder = new WeightEncoder(13, 7);
    long[] shape = {4, 6};
    CompressedWeights ok = Forms.quantized(4, 6, QuantDtype.INT8, Granularity.PER_CHANNEL, 0, true, 1);

    assertMessage("weight V is neither an initializer nor a Constant output",
        () -> encoder.encode(model(shape).getGraphBuilder(), "V", shape, 0, ok));
    assertMessage("layer W: compressed weights are 4x6 but shape [6, 4] with output axis 0 is 6x4",
        () -> encoder.encode(model(shape).getGraphBuilder(), "W", new long[] {6, 4}, 0, ok));
    assertMessage("weight W has shape [4, 6] in the model, not [4, 2, 3]",
        () -> encoder.encode(model(shape).getGraphBuilder(), "W", new long[] {4, 2, 3}, 0, ok));
    assertMessage("output axis 2 is outside a rank-2 tensor",
        () -> encoder.encode(model(shape).getGraphBuilder(), "W", shape, 2, ok));

    PalettizedWeights notHalf = Forms.palettized(4, 6, 2, 4, 1, TableType.FLOAT32, false, 2);
    PalettizedWeights claimsHalf = new PalettizedWeights(4, 6, 2, 4, 1, TableType.FLOAT16, notHalf.tables(), null, null,
        null, notHalf.indices(), null);
    assertMessage("layer W: palette value", () -> encoder.encode(model(shape).getGraphBuilder(), "W", shape, 0, claimsHalf));

    byte[] codes = new byte[24];
    codes[5] = 9;
    QuantizedWeights outOfRange = new QuantizedWeights(4, 6, QuantDtype.INT4, Granularity.PER_TENSOR, 0, codes,
        new float[] {0.1f}, null);
    assertMessage("layer W: code 9 at 5 is outside INT4 [-8, 7]",
        () -> encoder.encode(model(shape).getGraphBuilder(), "W", shape, 0, outOfRange));

    assertMessage("models below opset 7 are not supported", () -> new WeightEncoder(6, 3));

    Onnx.ModelProto.Builder intWeight = model(shape);
    intWeight.getGraphBuilder().getInitializerBuilder(0).setDataType(DecodeGraph.INT32);
    assertMessage("weight W has ONNX data type 6", () -> encoder.encode(intWeight.getGraphBuilder(), "W", shape, 0, ok));
  }

  private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(expected), "message was: " + e.getMessage());
  }
}
