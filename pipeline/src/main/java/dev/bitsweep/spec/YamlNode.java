package dev.bitsweep.spec;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A YAML value with the file and line it came from, so every spec error can point at its source.
 * Scalars are converted to Long, Double, Boolean, null or String.
 */
public final class YamlNode {
  private final String file;
  private final int line;
  private final String path;
  private final Object value;

  private YamlNode(String file, int line, String path, Object value) {
    this.file = file;
    this.line = line;
    this.path = path;
    this.value = value;
  }

  public static YamlNode read(Path file) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    try (Reader reader = Files.newBufferedReader(file)) {
      Node root = new Yaml(options).compose(reader);
      if (root == null) {
        throw new SpecException(file + ": the sweep spec is empty");
      }
      return convert(file.toString(), root, "");
    } catch (NoSuchFileException e) {
      throw new SpecException("sweep spec not found: " + file);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw notText(file);
    } catch (IOException e) {
      throw new SpecException("cannot read sweep spec " + file + ": " + e.getMessage());
    } catch (YAMLException e) {
      if (e.getCause() instanceof java.nio.charset.CharacterCodingException) {
        throw notText(file);
      }
      throw new SpecException(file + ": not valid YAML: " + e.getMessage().replace('\n', ' '));
    }
  }

  private static SpecException notText(Path file) {
    return new SpecException(file + ": not a text file (it is not UTF-8); a sweep spec is YAML text, e.g."
        + " calibration-data/digits/sweep.yaml");
  }

  private static YamlNode convert(String file, Node node, String path) {
    int line = node.getStartMark().getLine() + 1;
    if (node instanceof MappingNode mapping) {
      Map<String, YamlNode> entries = new LinkedHashMap<>();
      for (NodeTuple tuple : mapping.getValue()) {
        if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
          throw new SpecException(file + ":" + line + ": keys must be plain names");
        }
        String childPath = path.isEmpty() ? key.getValue() : path + "." + key.getValue();
        entries.put(key.getValue(), convert(file, tuple.getValueNode(), childPath));
      }
      return new YamlNode(file, line, path, entries);
    }
    if (node instanceof SequenceNode sequence) {
      List<YamlNode> items = new ArrayList<>();
      for (int i = 0; i < sequence.getValue().size(); i++) {
        items.add(convert(file, sequence.getValue().get(i), path + "[" + i + "]"));
      }
      return new YamlNode(file, line, path, items);
    }
    ScalarNode scalar = (ScalarNode) node;
    return new YamlNode(file, line, path, scalarValue(scalar));
  }

  private static Object scalarValue(ScalarNode scalar) {
    String text = scalar.getValue();
    Tag tag = scalar.getTag();
    if (tag.equals(Tag.NULL)) {
      return null;
    }
    if (tag.equals(Tag.BOOL)) {
      return Boolean.parseBoolean(text.toLowerCase());
    }
    if (tag.equals(Tag.INT)) {
      try {
        return Long.decode(text.replace("_", ""));
      } catch (NumberFormatException e) {
        return text;
      }
    }
    if (tag.equals(Tag.FLOAT)) {
      try {
        return Double.parseDouble(text.replace("_", ""));
      } catch (NumberFormatException e) {
        return text;
      }
    }
    return text;
  }

  public SpecException error(String message) {
    return new SpecException(file + ":" + line + ": " + (path.isEmpty() ? "" : path + ": ") + message);
  }

  public int line() {
    return line;
  }

  public String path() {
    return path;
  }

  public boolean isNull() {
    return value == null;
  }

  public boolean isMap() {
    return value instanceof Map;
  }

  public boolean isList() {
    return value instanceof List;
  }

  @SuppressWarnings("unchecked")
  public Map<String, YamlNode> map() {
    if (!isMap()) {
      throw error("expected a mapping of keys to values");
    }
    return (Map<String, YamlNode>) value;
  }

  @SuppressWarnings("unchecked")
  public List<YamlNode> list() {
    if (!isList()) {
      throw error("expected a list");
    }
    return (List<YamlNode>) value;
  }

  public String text() {
    if (value == null || isMap() || isList()) {
      throw error("expected a text value");
    }
    return value.toString();
  }

  public long integer() {
    if (!(value instanceof Long number)) {
      throw error("expected a whole number, got " + describe());
    }
    return number;
  }

  /** The plain Java value: Map, List, String, Long, Double, Boolean or null. */
  public Object plain() {
    if (isMap()) {
      Map<String, Object> out = new LinkedHashMap<>();
      map().forEach((k, v) -> out.put(k, v.plain()));
      return out;
    }
    if (isList()) {
      List<Object> out = new ArrayList<>();
      list().forEach(v -> out.add(v.plain()));
      return out;
    }
    return value;
  }

  public String describe() {
    return value == null ? "null" : isMap() ? "a mapping" : isList() ? "a list" : "'" + value + "'";
  }

  /** Rejects keys outside {@code allowed}, suggesting the closest allowed key. */
  public void requireKeys(Collection<String> allowed) {
    for (Map.Entry<String, YamlNode> entry : map().entrySet()) {
      if (!allowed.contains(entry.getKey())) {
        String suggestion = Suggest.closest(entry.getKey(), allowed);
        throw entry.getValue().error("unknown key '" + entry.getKey() + "'"
            + (suggestion == null ? "" : "; did you mean '" + suggestion + "'?")
            + " (allowed: " + String.join(", ", allowed) + ")");
      }
    }
  }
}
