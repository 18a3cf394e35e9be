package dev.bitsweep.pipeline;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.proto.Onnx;
import dev.bitsweep.spec.SpecException;
import dev.bitsweep.spec.SweepSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Resolves task {@code language_model} on the model before any job runs: the token input (named, else the model's
 * only int64 input besides the attention mask), the attention mask input (named, else an input called
 * {@code attention_mask} if the model has one) and the logits output (named, else the model's only float output of
 * rank 3); then checks every evaluation token id against the logits' vocabulary. Anything that cannot work is a
 * {@link SpecException} (exit code 2) naming the inputs or outputs and the field to set.
 */
final class LanguageModelTask {
  static final String DEFAULT_MASK = "attention_mask";

  private LanguageModelTask() {}

  /** The task's fields with input, attention_mask (when there is one) and output filled in and checked. */
  static Map<String, Object> resolve(SweepSpec spec, Onnx.ModelProto model) {
    List<ModelInput> inputs = ModelInput.of(model);
    Map<String, Object> given = spec.taskFields();
    String mask = (String) given.get("attention_mask");
    if (mask != null) {
      input(spec, inputs, mask, "attention_mask");
    } else if (inputs.stream().anyMatch(i -> i.name().equals(DEFAULT_MASK))) {
      mask = DEFAULT_MASK;
    }
    String tokens = (String) given.get("input");
    if (tokens == null) {
      String excluded = mask;
      List<ModelInput> int64 = inputs.stream()
          .filter(i -> i.elementType() == DataType.INT64 && !i.name().equals(excluded)).toList();
      if (int64.isEmpty()) {
        throw error(spec, "the model has no int64 input to read token ids from (its inputs are " + describe(inputs)
            + "); task language_model feeds token ids [batch, sequence] to an int64 input");
      }
      if (int64.size() > 1) {
        throw error(spec, "the model has several int64 inputs " + int64.stream().map(ModelInput::name).toList()
            + ": name the one that takes the token ids with task: {name: language_model, input: <name>}"
            + (mask == null ? " (and the attention mask with attention_mask: <name>)" : ""));
      }
      tokens = int64.get(0).name();
    }
    ModelInput tokenInput = input(spec, inputs, tokens, "input");
    if (tokenInput.elementType() != DataType.INT64) {
      throw error(spec, "token input '" + tokens + "' is " + DataType.name(tokenInput.elementType())
          + "; task language_model feeds token ids to an int64 input [batch, sequence]");
    }
    if (tokenInput.shape().length != 2) {
      throw error(spec, "token input '" + tokens + "' has shape " + ModelInput.shapeText(tokenInput.shape())
          + "; task language_model feeds token ids [batch, sequence] (rank 2)");
    }
    if (tokens.equals(mask)) {
      throw error(spec, "input '" + tokens + "' is named as both the token input and the attention mask");
    }
    String output = output(spec, model);
    Map<String, Object> fields = new LinkedHashMap<>(given);
    fields.put("input", tokens);
    if (mask != null) {
      fields.put("attention_mask", mask);
    }
    fields.put("output", output);
    return fields;
  }

  /**
   * Every token id of the evaluation samples must index the logits' vocabulary; {@code vocabulary} is the last
   * dimension of the logits the original model gave on the first batch.
   */
  static void checkTokens(SweepSpec spec, Dataset eval, int samples, String input, String output, long vocabulary) {
    NpyArray ids = eval.inputs().get(input);
    long[] values = ids.longs(0, samples);
    int perSample = Math.max(1, ids.sampleSize());
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] >= vocabulary) {
        throw error(spec, "token id " + values[i] + " at sample " + i / perSample + ", position " + i % perSample
            + " of " + ids.file() + " is outside the vocabulary of output '" + output + "' (" + vocabulary
            + " logits, ids 0.." + (vocabulary - 1) + "): the token data and the model must use the same vocabulary");
      }
    }
  }

  private static ModelInput input(SweepSpec spec, List<ModelInput> inputs, String name, String field) {
    return inputs.stream().filter(i -> i.name().equals(name)).findFirst().orElseThrow(() -> error(spec, field
        + " '" + name + "' is not an input of " + spec.model() + "; its inputs are " + describe(inputs)));
  }

  private static String output(SweepSpec spec, Onnx.ModelProto model) {
    List<Onnx.ValueInfoProto> outputs = model.getGraph().getOutputList();
    String named = spec.output();
    if (named != null) {
      Onnx.ValueInfoProto value = outputs.stream().filter(o -> o.getName().equals(named)).findFirst()
          .orElseThrow(() -> error(spec, "output '" + named + "' is not an output of " + spec.model()
              + "; its outputs are " + describeOutputs(outputs)));
      Onnx.TypeProto.Tensor tensor = value.getType().getTensorType();
      if (tensor.getElemType() != DataType.FLOAT) {
        throw error(spec, "output '" + named + "' is " + DataType.name(tensor.getElemType())
            + "; task language_model reads float logits [batch, sequence, vocabulary]");
      }
      if (tensor.hasShape() && tensor.getShape().getDimCount() != 3) {
        throw error(spec, "output '" + named + "' has rank " + tensor.getShape().getDimCount()
            + "; task language_model reads logits [batch, sequence, vocabulary] (rank 3)");
      }
      return named;
    }
    List<String> logits = outputs.stream().filter(o -> o.getType().getTensorType().getElemType() == DataType.FLOAT
        && o.getType().getTensorType().hasShape() && o.getType().getTensorType().getShape().getDimCount() == 3)
        .map(Onnx.ValueInfoProto::getName).toList();
    if (logits.isEmpty()) {
      throw error(spec, "the model has no float output of rank 3 (its outputs are " + describeOutputs(outputs)
          + "); task language_model reads logits [batch, sequence, vocabulary]: name the logits output with "
          + "task: {name: language_model, output: <name>}");
    }
    if (logits.size() > 1) {
      throw error(spec, "the model has several float outputs of rank 3 " + logits + ": name the logits output with "
          + "task: {name: language_model, output: <name>}");
    }
    return logits.get(0);
  }

  private static String describe(List<ModelInput> inputs) {
    return inputs.stream().map(i -> i.name() + " " + DataType.name(i.elementType()) + " "
        + ModelInput.shapeText(i.shape())).collect(Collectors.joining(", ", "[", "]"));
  }

  private static String describeOutputs(List<Onnx.ValueInfoProto> outputs) {
    return outputs.stream().map(o -> {
      Onnx.TypeProto.Tensor t = o.getType().getTensorType();
      String shape = t.hasShape() ? ModelInput.shapeText(t.getShape().getDimList().stream()
          .mapToLong(d -> d.hasDimValue() && d.getDimValue() > 0 ? d.getDimValue() : -1).toArray()) : "[unknown rank]";
      return o.getName() + " " + DataType.name(t.getElemType()) + " " + shape;
    }).collect(Collectors.joining(", ", "[", "]"));
  }

  private static SpecException error(SweepSpec spec, String message) {
    return new SpecException(spec.specFile() + ": task language_model: " + message);
  }
}
