package dev.bitsweep.data;

import dev.bitsweep.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Samples for a model: one {@code <input name>.npy} per model input (first axis = samples) and an optional
 * {@code labels.npy}, all in one directory. Opening checks names, dtypes and shapes against the model's inputs.
 */
public final class Dataset {
  private final Path directory;
  private final Map<String, NpyArray> inputs;
  private final NpyArray labels;
  private final int samples;
  private final Map<String, Integer> batchAxes;
  private final int[] sequenceStarts;
  private final int fixedBatch;

  private Dataset(Path directory, Map<String, NpyArray> inputs, NpyArray labels, int samples,
      Map<String, Integer> batchAxes, int[] sequenceStarts, int fixedBatch) {
    this.directory = directory;
    this.inputs = inputs;
    this.labels = labels;
    this.samples = samples;
    this.batchAxes = batchAxes;
    this.sequenceStarts = sequenceStarts;
    this.fixedBatch = fixedBatch;
  }

  public static Dataset open(Path directory, List<ModelInput> modelInputs, boolean needLabels) {
    if (Files.isRegularFile(directory)) {
      throw new DataException("data directory " + directory + " is a file, not a directory: name the directory that "
          + "holds one <input name>.npy per model input (e.g. " + directory.toAbsolutePath().getParent()
          + "; see calibration-data/README.md)");
    }
    if (!Files.isDirectory(directory)) {
      throw new DataException("data directory not found: " + directory
          + " (it must hold one <input name>.npy per model input; see calibration-data/README.md)");
    }
    List<ModelInput> allInputs = modelInputs;
    modelInputs = modelInputs.stream().filter(i -> i.feed().fromFile()).toList();
    Map<String, NpyArray> inputs = OnnxTestDataLayout.isUsedIn(directory)
        ? OnnxTestDataLayout.read(directory, modelInputs)
        : readNpyFiles(directory, modelInputs, allInputs);
    int samples = -1;
    Map<String, Integer> batchAxes = new LinkedHashMap<>();
    for (ModelInput input : modelInputs) {
      NpyArray array = inputs.get(input.name());
      checkDtype(array, input);
      batchAxes.put(input.name(), InputLayout.batchAxis(input, array.shape(), array.file()));
      checkFinite(array);
      if (samples >= 0 && array.samples() != samples) {
        throw new DataException("data file " + array.file() + " has " + array.samples() + " samples but "
            + inputs.values().iterator().next().file() + " has " + samples
            + ": every input needs the same number of samples");
      }
      samples = array.samples();
    }
    NpyArray labels = null;
    Path labelFile = directory.resolve("labels.npy");
    if (Files.exists(labelFile)) {
      labels = NpyArray.read(labelFile, "int64");
      if (labels.samples() != samples || labels.shape().length != 1) {
        throw new DataException("labels file " + labelFile + " has shape " + Arrays.toString(labels.shape())
            + " but the inputs have " + samples + " samples: expected shape [" + samples + "]");
      }
      if (!labels.dtype().startsWith("int") && !labels.dtype().equals("uint8")) {
        throw new DataException("labels file " + labelFile + " has dtype " + labels.dtype() + "; save class indices as int64");
      }
    } else if (needLabels) {
      throw new DataException("the task needs labels but " + labelFile + " does not exist");
    }
    if (samples < 0) {
      throw new DataException("model inputs " + allInputs.stream().map(ModelInput::name).toList() + " are all given "
          + "as values or states in the spec: at least one input must come from a data file in " + directory);
    }
    int[] sequenceStarts = InputLayout.sequenceStarts(directory, allInputs, samples);
    int fixedBatch = InputLayout.fixedBatch(allInputs, batchAxes);
    return new Dataset(directory, inputs, labels, samples, Map.copyOf(batchAxes), sequenceStarts, fixedBatch);
  }

  private static Map<String, NpyArray> readNpyFiles(Path directory, List<ModelInput> modelInputs,
      List<ModelInput> allInputs) {
    Map<String, NpyArray> inputs = new LinkedHashMap<>();
    for (ModelInput input : modelInputs) {
      Path file = directory.resolve(input.name() + ".npy");
      if (!Files.exists(file)) {
        List<String> present;
        try (java.util.stream.Stream<Path> list = Files.list(directory)) {
          present = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".npy") && !n.equals("labels.npy"))
              .sorted().toList();
        } catch (java.io.IOException e) {
          present = List.of();
        }
        throw new DataException("no data for model input '" + input.name() + "': expected " + file
            + " (found " + (present.isEmpty() ? "no .npy files" : String.join(", ", present)) + "; the model's inputs are "
            + allInputs.stream().map(ModelInput::name).toList() + ")" + (input.shape().length == 0
            ? "; it is a scalar (shape []): give one value for every sample in the spec, e.g. 'inputs: {"
                + input.name() + ": {value: ...}}'" : ""));
      }
      inputs.put(input.name(), NpyArray.read(file, input.npyDtype()));
    }
    for (Path file : npyFiles(directory)) {
      String name = file.getFileName().toString();
      String stem = name.substring(0, name.length() - 4);
      for (ModelInput other : allInputs) {
        if (other.name().equals(stem) && !other.feed().fromFile()) {
          throw new DataException("data file " + file + " is for model input '" + stem + "', which the spec feeds as a "
              + (other.feed().kind() == InputFeed.Kind.VALUE ? "value" : "state") + ": remove the file or the spec's '"
              + stem + "' entry, so that the input has one source");
        }
      }
      if (!isLabelFile(name) && !name.equals(InputLayout.SEQUENCE_IDS) && !inputs.containsKey(stem)) {
        throw new DataException("data file " + file + " names no model input: the model's inputs are "
            + modelInputs.stream().map(ModelInput::name).toList() + " and labels.npy holds the labels; remove or "
            + "rename the file (a stray file may be data meant for another model)");
      }
    }
    return inputs;
  }

  /** labels.npy and other label files of the task metrics (label_tokens.npy, ...): reserved, never model inputs. */
  static boolean isLabelFile(String fileName) {
    return fileName.equals("labels.npy") || fileName.startsWith("label_") || fileName.startsWith("labels_")
        || fileName.equals(InputLayout.SEQUENCE_IDS);
  }

  static List<Path> npyFiles(Path directory) {
    try (java.util.stream.Stream<Path> list = Files.list(directory)) {
      return list.filter(p -> p.getFileName().toString().endsWith(".npy")).sorted().toList();
    } catch (java.io.IOException e) {
      throw new DataException("cannot list data directory " + directory + ": " + e.getMessage());
    }
  }

  private static void checkFinite(NpyArray array) {
    long bad = array.firstNonFinite();
    if (bad >= 0) {
      int perSample = Math.max(1, array.sampleSize());
      throw new DataException("data file " + array.file() + " holds " + array.valueAt(bad) + " at sample "
          + bad / perSample + " (flat index " + bad + "): every input value must be finite; fix the data or its "
          + "preprocessing (numpy.isfinite(arr).all() must be True)");
    }
  }

  /**
   * Checks the labels against the model's class count, the last dimension of its first output (what top-1 accuracy
   * takes the argmax of), when the model fixes it; without labels or a fixed class count there is nothing to check.
   */
  public void checkLabelsFit(Onnx.ModelProto model) {
    if (labels == null || model.getGraph().getOutputCount() == 0) {
      return;
    }
    Onnx.ValueInfoProto output = model.getGraph().getOutput(0);
    List<Onnx.TensorShapeProto.Dimension> dims = output.getType().getTensorType().getShape().getDimList();
    if (dims.isEmpty() || !dims.get(dims.size() - 1).hasDimValue() || dims.get(dims.size() - 1).getDimValue() <= 0) {
      return;
    }
    long classes = dims.get(dims.size() - 1).getDimValue();
    if (classes < 2) {
      return; // one score per sample is not a class axis; the metric says so
    }
    long[] values = labels.longs(0, samples);
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] >= classes) {
        throw new DataException("labels file " + labels.file() + " has label " + values[i] + " at sample " + i
            + " but the model's output '" + output.getName() + "' has " + classes + " classes: labels must be class "
            + "indices 0.." + (classes - 1));
      }
    }
  }

  private static void checkDtype(NpyArray array, ModelInput input) {
    String expected = input.npyDtype();
    if (!array.dtype().equals(expected)) {
      throw new DataException("data file " + array.file() + " is " + array.dtype() + " but model input '" + input.name()
          + "' is " + expected + ": convert it with numpy (arr.astype(numpy." + expected + "))");
    }
  }

  /** The model axis the samples of a file-fed input go on (0 unless the spec's batch_axis says otherwise). */
  public int batchAxis(String input) {
    Integer axis = batchAxes.get(input);
    if (axis == null) {
      throw new DataException("model input '" + input + "' is not fed from a data file in " + directory);
    }
    return axis;
  }

  /**
   * The batch the model fixes on the batch axis of its file-fed inputs (every run then takes exactly that many
   * samples), or -1 when the batch axis is free.
   */
  public int fixedBatch() {
    return fixedBatch;
  }

  /** Where each sequence of frames starts (from sequence_ids.npy), or an empty array for a model without state. */
  public int[] sequenceStarts() {
    return sequenceStarts.clone();
  }

  public Path directory() {
    return directory;
  }

  public int samples() {
    return samples;
  }

  public Map<String, NpyArray> inputs() {
    return inputs;
  }

  public Optional<NpyArray> labels() {
    return Optional.ofNullable(labels);
  }
}
