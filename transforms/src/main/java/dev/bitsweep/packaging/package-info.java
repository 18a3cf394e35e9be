/**
 * Packaging, as a plain library: writes one config's packaged model, the original ONNX model with each compressed
 * layer replaced by its standard-ONNX encoding ({@link dev.bitsweep.onnx.encode.WeightEncoder}), and its manifest
 * (provenance, the exact config, the per-layer encodings). The pipeline's PackageModels stage calls
 * {@link dev.bitsweep.packaging.Packager#write}; a new file in a package or a new manifest field goes here.
 */
package dev.bitsweep.packaging;
