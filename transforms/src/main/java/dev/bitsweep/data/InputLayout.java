package dev.bitsweep.data;

import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks how model inputs are fed against the model's declared shapes: which model axis a data file's samples go on,
 * scalar and constant inputs, recurrent states and the sequences of frames they are carried through. Whatever the
 * shapes leave open is an error that names the input and the spec entry that settles it; nothing is guessed.
 */
public final class InputLayout {
  /** The reserved file giving, per frame, the sequence it belongs to (frames of a sequence are contiguous, in order). */
  public static final String SEQUENCE_IDS = "sequence_ids.npy";

  private InputLayout() {}

  /**
   * The model's inputs with the spec's feeds applied, each feed checked against the model.
   *
   * @param feeds the spec's {@code inputs:} entries by input name (absent = from the data file, batch on axis 0)
   * @param baseDir where relative {@code initial} files are resolved
   */
  public static List<ModelInput> apply(Onnx.ModelProto model, Map<String, InputFeed> feeds, Path baseDir) {
    List<ModelInput> inputs = ModelInput.of(model);
    Map<String, ModelInput> byName = new LinkedHashMap<>();
    inputs.forEach(i -> byName.put(i.name(), i));
    for (String name : feeds.keySet()) {
      if (!byName.containsKey(name)) {
        throw new DataException("the spec's inputs entry '" + name + "' names no model input: the model's inputs are "
            + List.copyOf(byName.keySet()));
      }
    }
    Map<String, Onnx.ValueInfoProto> outputs = new LinkedHashMap<>();
    model.getGraph().getOutputList().forEach(o -> outputs.put(o.getName(), o));
    List<ModelInput> applied = new ArrayList<>();
    for (ModelInput input : inputs) {
      InputFeed feed = feeds.getOrDefault(input.name(), InputFeed.FROM_FILE);
      if (feed.kind() == InputFeed.Kind.STATE && feed.initialFile() != null) {
        feed = InputFeed.state(feed.stateOutput(), baseDir.resolve(feed.initialFile()).normalize().toString(),
            feed.batchAxis());
      }
      ModelInput withFeed = input.withFeed(feed);
      switch (feed.kind()) {
        case VALUE -> checkValue(withFeed);
        case STATE -> checkState(withFeed, outputs);
        case FILE -> {
          if (feed.batchAxis() >= input.shape().length && feed.batchAxis() >= 0) {
            throw new DataException("model input '" + input.name() + "' " + ModelInput.shapeText(input.shape())
                + " has no axis " + feed.batchAxis() + ": batch_axis must be 0.." + (input.shape().length - 1));
          }
        }
      }
      applied.add(withFeed);
    }
    boolean stateful = applied.stream().anyMatch(i -> i.feed().kind() == InputFeed.Kind.STATE);
    if (stateful && applied.stream().noneMatch(i -> i.feed().fromFile())) {
      throw new DataException("every model input is a value or a state: frames must come from a data file");
    }
    return applied;
  }

  /**
   * What the spec's input layout changes about the runs, for the ids of results and caches that depend on it: one
   * entry per input not fed plainly from its file (a value, a batch axis, a state with its initial file's content);
   * empty when every input is.
   */
  public static String identity(List<ModelInput> inputs) {
    List<String> parts = new ArrayList<>();
    for (ModelInput input : inputs) {
      InputFeed feed = input.feed();
      switch (feed.kind()) {
        case VALUE -> parts.add(input.name() + "=value:" + feed.value());
        case STATE -> parts.add(input.name() + "=state:" + feed.stateOutput() + ",axis:" + feed.batchAxis()
            + ",initial:" + (feed.initialFile() == null ? "zeros" : sha256(Path.of(feed.initialFile()))));
        case FILE -> {
          if (feed.batchAxis() >= 0) {
            parts.add(input.name() + "=axis:" + feed.batchAxis());
          }
        }
      }
    }
    return String.join(";", parts);
  }

  private static String sha256(Path file) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(Files.readAllBytes(file)));
    } catch (java.io.IOException e) {
      throw new DataException("cannot read initial state file " + file + ": " + e.getMessage());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void checkValue(ModelInput input) {
    if (Arrays.stream(input.shape()).anyMatch(d -> d < 0)) {
      throw new DataException("model input '" + input.name() + "' " + ModelInput.shapeText(input.shape())
          + " has a value in the spec but its shape is not fixed: a value fills a fixed shape (e.g. a scalar []); "
          + "give the input a data file instead");
    }
    double value = input.feed().value();
    String dtype = input.npyDtype();
    boolean integral = dtype.startsWith("int") || dtype.equals("uint8") || dtype.equals("bool");
    if (integral && (value != Math.rint(value) || Double.isInfinite(value))) {
      throw new DataException("model input '" + input.name() + "' is " + dtype + " but its value " + value
          + " is not an integer");
    }
    if (dtype.equals("bool") && value != 0 && value != 1) {
      throw new DataException("model input '" + input.name() + "' is bool: its value must be 0 or 1, got " + value);
    }
    if (!Double.isFinite(value)) {
      throw new DataException("model input '" + input.name() + "' has value " + value + ": it must be finite");
    }
  }

  private static void checkState(ModelInput input, Map<String, Onnx.ValueInfoProto> outputs) {
    InputFeed feed = input.feed();
    Onnx.ValueInfoProto output = outputs.get(feed.stateOutput());
    if (output == null) {
      throw new DataException("model input '" + input.name() + "' is a state carried from output '"
          + feed.stateOutput() + "', which the model does not have: its outputs are " + List.copyOf(outputs.keySet()));
    }
    if (input.elementType() != DataType.FLOAT || output.getType().getTensorType().getElemType() != DataType.FLOAT) {
      throw new DataException("state input '" + input.name() + "' and its output '" + output.getName()
          + "' must both be float32 (carried states are float32)");
    }
    long[] shape = stateShape(input);
    List<Onnx.TensorShapeProto.Dimension> dims = output.getType().getTensorType().getShape().getDimList();
    boolean fits = dims.isEmpty() || dims.size() == shape.length;
    for (int i = 0; fits && !dims.isEmpty() && i < shape.length; i++) {
      Onnx.TensorShapeProto.Dimension dim = dims.get(i);
      if (dim.hasDimValue() && dim.getDimValue() > 0 && dim.getDimValue() != shape[i] && i != feed.batchAxis()) {
        fits = false;
      }
    }
    if (!fits) {
      throw new DataException("state input '" + input.name() + "' " + ModelInput.shapeText(input.shape())
          + " cannot take output '" + output.getName() + "': its declared shape has " + dims.size() + " axes "
          + dims.stream().map(d -> d.hasDimValue() ? Long.toString(d.getDimValue()) : "?").toList());
    }
    if (feed.initialFile() != null) {
      Path file = Path.of(feed.initialFile());
      if (!Files.isRegularFile(file)) {
        throw new DataException("state input '" + input.name() + "': initial file " + file + " not found");
      }
      NpyArray initial = NpyArray.read(file, "float32");
      if (!initial.dtype().equals("float32") || !Arrays.equals(initial.shape(), shape)) {
        throw new DataException("state input '" + input.name() + "': initial file " + file + " is " + initial.dtype()
            + " " + Arrays.toString(initial.shape()) + " but the state of one frame is float32 "
            + Arrays.toString(shape));
      }
    }
  }

  /**
   * The shape of a state carried through one sequence, frame by frame: the declared shape with batch 1 on the batch
   * axis. Symbolic axes other than the batch axis are an error.
   */
  public static long[] stateShape(ModelInput input) {
    long[] shape = input.shape().clone();
    int axis = input.feed().batchAxis();
    if (axis >= shape.length) {
      throw new DataException("state input '" + input.name() + "' " + ModelInput.shapeText(input.shape())
          + " has no axis " + axis + ": batch_axis must be 0.." + (shape.length - 1));
    }
    if (axis >= 0) {
      if (shape[axis] > 1) {
        throw new DataException("state input '" + input.name() + "' " + ModelInput.shapeText(input.shape())
            + " has a fixed size " + shape[axis] + " on its batch_axis " + axis + ": sequences run one frame at a "
            + "time, so the batch axis must be 1 or symbolic");
      }
      shape[axis] = 1;
    }
    for (long d : shape) {
      if (d < 0) {
        throw new DataException("state input '" + input.name() + "' " + ModelInput.shapeText(input.shape())
            + " has a symbolic axis and no batch_axis " + (axis >= 0 ? "covering it" : "in the spec")
            + ": give the state's batch axis, e.g. 'inputs: {" + input.name() + ": {state: {output: ...}, batch_axis: "
            + firstSymbolic(input.shape()) + "}}', and fix its other axes in the model");
      }
    }
    return shape;
  }

  private static int firstSymbolic(long[] shape) {
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        return i;
      }
    }
    return 0;
  }

  /**
   * The model axis a data file's samples (axis 0 of the file) are fed on. With batch_axis given it is that axis;
   * otherwise axis 0 when the model leaves it symbolic; when the model fixes axis 0, the file must fit axis 0 and no
   * other symbolic axis, else the layout is ambiguous (or fits another axis only) and batch_axis must be given.
   */
  public static int batchAxis(ModelInput input, long[] fileShape, Path file) {
    long[] model = input.shape();
    String name = input.name();
    if (model.length == 0) {
      throw new DataException("model input '" + name + "' is a scalar (shape []) but " + file + " holds it per sample "
          + "(shape " + Arrays.toString(fileShape) + "): a scalar is one value for every sample; remove the file and "
          + "give it in the spec, e.g. 'inputs: {" + name + ": {value: 16000}}'");
    }
    int given = input.feed().batchAxis();
    String mismatch = "data file " + file + " has shape " + Arrays.toString(fileShape) + " but model input '" + name
        + "' expects " + ModelInput.shapeText(model);
    if (fileShape.length != model.length) {
      throw new DataException(mismatch + " (first axis = samples; -1 = any size)");
    }
    if (given >= 0) {
      if (!fits(model, given, fileShape)) {
        throw new DataException(mismatch + " with its samples (axis 0 of the file) on model axis " + given
            + " (batch_axis): the file must be [samples] + the model's shape without axis " + given);
      }
      return given;
    }
    if (model[0] < 0) {
      if (!fits(model, 0, fileShape)) {
        throw new DataException(mismatch + " (first axis = samples; -1 = any size)");
      }
      return 0;
    }
    List<Integer> candidates = new ArrayList<>();
    for (int axis = 0; axis < model.length; axis++) {
      if ((axis == 0 || model[axis] < 0) && fits(model, axis, fileShape)) {
        candidates.add(axis);
      }
    }
    if (candidates.equals(List.of(0))) {
      return 0;
    }
    if (candidates.isEmpty()) {
      throw new DataException(mismatch + " (first axis = samples; -1 = any size)");
    }
    int suggested = candidates.get(candidates.size() - 1);
    if (candidates.size() == 1) {
      throw new DataException("data file " + file + " has shape " + Arrays.toString(fileShape) + ", which fits model "
          + "input '" + name + "' " + ModelInput.shapeText(model) + " only with its samples on model axis " + suggested
          + " (axis 0 is fixed at " + model[0] + "): say so in the spec, e.g. 'inputs: {" + name + ": {batch_axis: "
          + suggested + "}}'");
    }
    throw new DataException("data file " + file + " has shape " + Arrays.toString(fileShape) + ", which fits model "
        + "input '" + name + "' " + ModelInput.shapeText(model) + " with its samples on model axis "
        + String.join(" or ", candidates.stream().map(String::valueOf).toList()) + ": the layout is ambiguous; give "
        + "the batch axis in the spec, e.g. 'inputs: {" + name + ": {batch_axis: " + suggested + "}}'");
  }

  /** Whether [samples] + the model's shape without {@code axis} matches the file (symbolic dims match any size). */
  private static boolean fits(long[] model, int axis, long[] fileShape) {
    int position = 1;
    for (int i = 0; i < model.length; i++) {
      if (i == axis) {
        continue;
      }
      if (model[i] > 0 && model[i] != fileShape[position]) {
        return false;
      }
      position++;
    }
    return true;
  }

  /**
   * The batch the model fixes on the batch axes of its file-fed inputs, or -1 when every one is symbolic. Inputs that
   * fix different batches, and a fixed batch above 1 with state inputs (frames run one at a time), are errors.
   */
  static int fixedBatch(List<ModelInput> inputs, Map<String, Integer> batchAxes) {
    long fixed = -1;
    String owner = null;
    for (ModelInput input : inputs) {
      Integer axis = batchAxes.get(input.name());
      if (axis == null || input.shape()[axis] < 0) {
        continue;
      }
      long size = input.shape()[axis];
      if (owner == null) {
        fixed = size;
        owner = input.name();
      } else if (size != fixed) {
        throw new DataException("model inputs '" + owner + "' and '" + input.name() + "' fix different batch sizes on "
            + "their batch axes (" + fixed + " and " + size + "): the samples of one run go to every input; check "
            + "the inputs' batch_axis in the spec");
      }
    }
    boolean stateful = inputs.stream().anyMatch(i -> i.feed().kind() == InputFeed.Kind.STATE);
    if (stateful && fixed > 1) {
      throw new DataException("model input '" + owner + "' fixes its batch at " + fixed + " but the spec carries state "
          + "through sequences, one frame per run: export the model with batch 1 (or a symbolic batch) on '" + owner
          + "'s batch axis");
    }
    return (int) fixed;
  }

  /**
   * Where each sequence starts, from {@code sequence_ids.npy} (int64 [N]: the sequence of every frame; a sequence's
   * frames are contiguous and in time order); an empty array when no input is a state.
   */
  static int[] sequenceStarts(Path directory, List<ModelInput> inputs, int samples) {
    boolean stateful = inputs.stream().anyMatch(i -> i.feed().kind() == InputFeed.Kind.STATE);
    Path file = directory.resolve(SEQUENCE_IDS);
    if (!stateful) {
      if (Files.exists(file)) {
        throw new DataException("data file " + file + " orders frames into sequences but no model input is a state: "
            + "declare the state in the spec ('inputs: {<input>: {state: {output: <output>}}}') or remove the file");
      }
      return new int[0];
    }
    if (!Files.exists(file)) {
      throw new DataException("the spec carries state through sequences but " + file + " does not exist: save each "
          + "frame's sequence id as int64 [" + samples + "] (frames of a sequence contiguous, in time order)");
    }
    NpyArray ids = NpyArray.read(file, "int64");
    if (!(ids.dtype().equals("int64") || ids.dtype().equals("int32")) || ids.shape().length != 1
        || ids.samples() != samples) {
      throw new DataException("sequence file " + file + " is " + ids.dtype() + " " + Arrays.toString(ids.shape())
          + " but the inputs have " + samples + " frames: expected int64 [" + samples + "]");
    }
    long[] values = ids.longs(0, samples);
    List<Integer> starts = new ArrayList<>();
    java.util.Set<Long> seen = new java.util.HashSet<>();
    for (int i = 0; i < values.length; i++) {
      if (i == 0 || values[i] != values[i - 1]) {
        if (!seen.add(values[i])) {
          throw new DataException("sequence file " + file + ": sequence " + values[i] + " resumes at frame " + i
              + " after other frames; keep each sequence's frames contiguous");
        }
        starts.add(i);
      }
    }
    return starts.stream().mapToInt(Integer::intValue).toArray();
  }
}
