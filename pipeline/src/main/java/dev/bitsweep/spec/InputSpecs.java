package dev.bitsweep.spec;

import dev.bitsweep.data.InputFeed;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The spec's {@code inputs:} section: per model input, a constant {@code value}, the {@code batch_axis} its data
 * file's samples go on, or a {@code state: {output, initial}} carried through sequences of frames. Checked here for
 * form; {@link dev.bitsweep.data.InputLayout} checks it against the model.
 */
public final class InputSpecs {
  private static final List<String> KEYS = List.of("value", "batch_axis", "state");
  private static final List<String> STATE_KEYS = List.of("output", "initial");

  private InputSpecs() {}

  /** The entries by input name; a state's {@code initial} file resolved against the spec's directory. */
  public static Map<String, InputFeed> read(Path specFile) {
    YamlNode root = YamlNode.read(specFile);
    YamlNode section = root.map().get("inputs");
    Map<String, InputFeed> feeds = new LinkedHashMap<>();
    if (section == null || section.isNull()) {
      return feeds;
    }
    for (Map.Entry<String, YamlNode> entry : section.map().entrySet()) {
      YamlNode node = entry.getValue();
      node.requireKeys(KEYS);
      Map<String, YamlNode> fields = node.map();
      int batchAxis = -1;
      if (fields.containsKey("batch_axis")) {
        long axis = fields.get("batch_axis").integer();
        if (axis < 0) {
          throw fields.get("batch_axis").error("batch_axis must be >= 0 (the model axis the samples go on), got " + axis);
        }
        batchAxis = (int) axis;
      }
      if (fields.containsKey("value") && fields.containsKey("state")) {
        throw node.error("input '" + entry.getKey() + "' has both a value and a state: give one");
      }
      if (fields.containsKey("value")) {
        if (batchAxis >= 0) {
          throw fields.get("batch_axis").error("input '" + entry.getKey() + "' has a value, which is the same for "
              + "every sample: it has no batch axis; remove batch_axis");
        }
        Object value = fields.get("value").plain();
        if (value instanceof Boolean b) {
          value = b ? 1L : 0L;
        }
        if (!(value instanceof Number number)) {
          throw fields.get("value").error("value must be a number, got " + fields.get("value").describe());
        }
        feeds.put(entry.getKey(), InputFeed.constant(number.doubleValue()));
      } else if (fields.containsKey("state")) {
        YamlNode state = fields.get("state");
        state.requireKeys(STATE_KEYS);
        YamlNode output = state.map().get("output");
        if (output == null || output.isNull()) {
          throw state.error("state of input '" + entry.getKey() + "' needs 'output': the model output that holds the "
              + "next frame's state");
        }
        YamlNode initial = state.map().get("initial");
        String initialFile = initial == null || initial.isNull() || initial.text().equals("zeros") ? null
            : specFile.toAbsolutePath().getParent().resolve(initial.text()).normalize().toString();
        feeds.put(entry.getKey(), InputFeed.state(output.text(), initialFile, batchAxis));
      } else {
        feeds.put(entry.getKey(), InputFeed.file(batchAxis));
      }
    }
    return feeds;
  }
}
