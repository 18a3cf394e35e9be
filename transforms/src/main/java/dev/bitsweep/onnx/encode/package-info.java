/**
 * Standard-ONNX encodings of bitsweep's compressed weights, so a packaged model's file size reflects the bits.
 *
 * <p>{@link dev.bitsweep.onnx.encode.WeightEncoder} replaces one weight (initializer or Constant output, in the main
 * graph or a subgraph) by encoded initializers and a small decode subgraph whose output keeps the weight's name,
 * shape and dtype. The decode only uses ops of the model's own default-domain opset (7 to 21), picking the
 * preferred op where it exists and an exact equivalent from older ops where it does not; ONNX Runtime decodes it to
 * exactly {@code CompressedWeights.decompress()} and constant-folds it at session creation.
 *
 * <ul>
 *   <li>Palettized: indices as bit planes of 1/2/4/8 bits ({@link dev.bitsweep.onnx.encode.BitPacking}), unpacked
 *       by one Gather per plane from a 256-entry byte table; per-group tables through an index offset into one flat
 *       table; fp16/fp32 tables, or int8/uint8 tables dequantized per group; vector entries for cluster_dim &gt; 1;
 *       per-channel scales by a Mul.</li>
 *   <li>Quantized: codes at their grid's width (int8/uint8; INT4/UINT4 from opset 21; 2/3/5/6/7-bit and older
 *       4-bit as bit planes like palette indices); DequantizeLinear per-tensor (opset 10), per-axis (13), blocked
 *       (21), otherwise {@code (float) (q - zp) * scale} by Cast/Sub/Mul; float16 scales cast to float first.</li>
 *   <li>Sparse: the mask as a 1-bit plane plus only the kept values/codes (one filler in front);
 *       {@code kept[prefixSum(mask)]} by CumSum (11) or blocked triangular MatMuls below, then the mask applied with
 *       Where (9) or an exact Mul/Add form.</li>
 * </ul>
 * {@link dev.bitsweep.onnx.encode.EncodingCatalog} lists the components with their ops, minimum opset and runtime.
 *
 * <p>One encoder per model: the decodes of one graph share small constants, iotas and byte tables
 * ({@link dev.bitsweep.onnx.encode.SharedDecodeValues}), generated names are short and unique in the model, so a
 * model of many small layers stays near its payload.
 */
package dev.bitsweep.onnx.encode;
