package dev.bitsweep.plan;

import java.util.List;
import java.util.Map;

/** Writes plain maps, lists and scalars as block YAML; strings are double-quoted (JSON escapes are valid YAML). */
final class Yaml {
  private Yaml() {}

  static String write(Map<String, ?> map) {
    StringBuilder out = new StringBuilder();
    writeMap(out, map, 0);
    return out.toString();
  }

  private static void writeMap(StringBuilder out, Map<String, ?> map, int indent) {
    for (Map.Entry<String, ?> e : map.entrySet()) {
      out.append(" ".repeat(indent)).append(scalar(e.getKey())).append(':');
      writeValue(out, e.getValue(), indent);
    }
  }

  private static void writeValue(StringBuilder out, Object value, int indent) {
    if (value instanceof Map<?, ?> m && !m.isEmpty()) {
      out.append('\n');
      @SuppressWarnings("unchecked")
      Map<String, ?> typed = (Map<String, ?>) m;
      writeMap(out, typed, indent + 2);
    } else if (value instanceof Map<?, ?>) {
      out.append(" {}\n");
    } else if (value instanceof List<?> list && !list.isEmpty() && list.stream().anyMatch(v -> v instanceof Map)) {
      out.append('\n');
      for (Object item : list) {
        out.append(" ".repeat(indent + 2)).append("-");
        if (item instanceof Map<?, ?> m && !m.isEmpty()) {
          @SuppressWarnings("unchecked")
          Map<String, ?> typed = (Map<String, ?>) m;
          StringBuilder nested = new StringBuilder();
          writeMap(nested, typed, indent + 4);
          out.append(' ').append(nested.substring(indent + 4));
        } else {
          writeValue(out, item, indent + 2);
        }
      }
    } else if (value instanceof List<?> list) {
      StringBuilder flow = new StringBuilder("[");
      for (int i = 0; i < list.size(); i++) {
        flow.append(i == 0 ? "" : ", ").append(scalar(list.get(i)));
      }
      out.append(' ').append(flow).append("]\n");
    } else {
      out.append(' ').append(scalar(value)).append('\n');
    }
  }

  static String scalar(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof Boolean || value instanceof Integer || value instanceof Long) {
      return value.toString();
    }
    if (value instanceof Double || value instanceof Float) {
      double d = ((Number) value).doubleValue();
      if (!Double.isFinite(d)) {
        throw new IllegalArgumentException("cannot write the non-finite number " + d + " to YAML");
      }
      return Double.toString(d);
    }
    StringBuilder quoted = new StringBuilder("\"");
    for (char c : value.toString().toCharArray()) {
      switch (c) {
        case '"' -> quoted.append("\\\"");
        case '\\' -> quoted.append("\\\\");
        case '\n' -> quoted.append("\\n");
        case '\t' -> quoted.append("\\t");
        default -> {
          if (c < 0x20) {
            quoted.append(String.format("\\u%04x", (int) c));
          } else {
            quoted.append(c);
          }
        }
      }
    }
    return quoted.append('"').toString();
  }
}
