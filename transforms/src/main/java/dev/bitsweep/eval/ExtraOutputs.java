package dev.bitsweep.eval;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A copy of a model whose intermediate tensors of interest are extra graph outputs (name-only ValueInfoProtos), and
 * the ONNX Runtime session that computes them all in one run. The session runs at ORT's basic optimization level
 * (constant folding only), so a fetched tensor stays what it is in the original graph; single-threaded like every
 * bitsweep session.
 */
public final class ExtraOutputs {
  private final OnnxModel model;
  private final List<ModelInput> inputs;
  private final Set<String> graphInputs = new HashSet<>();
  private final Set<String> outputs = new HashSet<>();
  private final Set<String> fetched = new LinkedHashSet<>();
  private final Onnx.GraphProto.Builder graph;

  public ExtraOutputs(OnnxModel model) {
    this(model, ModelInput.of(model.proto()));
  }

  /** @param inputs the model's data inputs as they are fed (the spec's input layout applied) */
  public ExtraOutputs(OnnxModel model, List<ModelInput> inputs) {
    this.model = model;
    this.inputs = List.copyOf(inputs);
    inputs.forEach(i -> graphInputs.add(i.name()));
    model.proto().getGraph().getOutputList().forEach(o -> outputs.add(o.getName()));
    this.graph = model.proto().getGraph().toBuilder();
  }

  /**
   * Fetches {@code tensor} on every run. A graph input is fed, not fetched (the caller reads it from the feeds); a
   * tensor that is not already a graph output becomes one.
   */
  public void fetch(String tensor) {
    if (!graphInputs.contains(tensor) && fetched.add(tensor) && !outputs.contains(tensor)) {
      graph.addOutput(Onnx.ValueInfoProto.newBuilder().setName(tensor));
    }
  }

  /** Fetches an output the caller has added to {@link #graph()} itself. */
  public void fetchAdded(String output) {
    fetched.add(output);
  }

  /** The edited graph, for callers that add outputs of their own (threaded out of subgraphs). */
  public Onnx.GraphProto.Builder graph() {
    return graph;
  }

  /** The model's data inputs (graph inputs that are not initializers), as they are fed. */
  public List<ModelInput> inputs() {
    return inputs;
  }

  public Set<String> graphInputs() {
    return Collections.unmodifiableSet(graphInputs);
  }

  /** The tensors fetched so far, in the order they were asked for. */
  public Set<String> fetched() {
    return Collections.unmodifiableSet(fetched);
  }

  /**
   * The session on the edited copy; {@code purpose} completes "ONNX Runtime cannot load MODEL with ..." and
   * {@code tempPrefix} names the copy written beside a model with external data.
   */
  public OrtSession open(String purpose, String tempPrefix) {
    byte[] bytes = model.proto().toBuilder().setGraph(graph).build().toByteArray();
    try {
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      return usesExternalData(model.proto().getGraph())
          ? sessionBesideTheModel(bytes, options, tempPrefix)
          : OrtRuntime.environment().createSession(bytes, options);
    } catch (OrtException e) {
      throw new ModelException("ONNX Runtime cannot load " + model.path() + " with " + purpose + ": "
          + e.getMessage(), e);
    }
  }

  private static boolean usesExternalData(Onnx.GraphProto graph) {
    return graph.getInitializerList().stream().anyMatch(t -> t.getExternalDataCount() > 0);
  }

  /**
   * ONNX Runtime resolves external data relative to the model file only when opened by path: the copy is written
   * next to the original for the moment the session loads, then removed.
   */
  private OrtSession sessionBesideTheModel(byte[] bytes, OrtSession.SessionOptions options, String tempPrefix)
      throws OrtException {
    Path temp = null;
    try {
      temp = Files.createTempFile(model.directory(), tempPrefix, ".onnx");
      Files.write(temp, bytes);
      return OrtRuntime.environment().createSession(temp.toString(), options);
    } catch (IOException e) {
      throw new ModelException("cannot write the activation-capture copy of " + model.path() + " beside it ("
          + e.getMessage() + "); its external data is resolved relative to that directory, which must be writable",
          e);
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException ignored) {
          // a leftover hidden temp file is harmless
        }
      }
    }
  }
}
