package dev.bitsweep.compress;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads one method's fields from a YAML-like map: rejects unknown keys (listing the allowed ones, with a
 * suggestion) and names the field and the expected type when a value has the wrong type. A key that is absent or
 * maps to null means "use the default".
 */
public final class FieldReader {
  private final String method;
  private final Map<String, Object> fields;

  public FieldReader(String method, Map<String, Object> fields, List<String> allowed) {
    this(method, fields, allowed, Map.of());
  }

  /** @param renamed keys this method used to accept, with what to write instead */
  public FieldReader(String method, Map<String, Object> fields, List<String> allowed, Map<String, String> renamed) {
    this.method = method;
    this.fields = fields;
    for (String key : fields.keySet()) {
      if (renamed.containsKey(key) && !allowed.contains(key)) {
        throw new ConfigException(key, "unknown field for method " + method + ": " + renamed.get(key));
      }
      if (!allowed.contains(key)) {
        throw new ConfigException(key, "unknown field for method " + method + "; allowed fields are " + allowed
            + Choices.suggestion(key, allowed));
      }
    }
  }

  /** The value or the fallback when the key is absent or null. */
  public static <T> T orElse(T value, T fallback) {
    return value == null ? fallback : value;
  }

  private Object raw(String key) {
    return fields.get(key);
  }

  private ConfigException wrongType(String key, String expected) {
    Object value = raw(key);
    return new ConfigException(key, "expected " + expected + " but got " + describe(value) + " for method " + method);
  }

  public static String describe(Object value) {
    if (value instanceof String s) {
      return "the string '" + s + "'";
    }
    return (value instanceof List ? "a list " : value instanceof Map ? "a map " : "the "
        + value.getClass().getSimpleName().toLowerCase() + " ") + value;
  }

  public Integer integer(String key) {
    Object value = raw(key);
    if (value == null) {
      return null;
    }
    Integer exact = exactInt(value);
    if (exact == null) {
      throw wrongType(key, "an integer");
    }
    return exact;
  }

  private static Integer exactInt(Object value) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      long n = ((Number) value).longValue();
      return n == (int) n ? (int) n : null;
    }
    if (value instanceof Double || value instanceof Float) {
      double d = ((Number) value).doubleValue();
      return d == Math.rint(d) && Math.abs(d) < Integer.MAX_VALUE ? (int) d : null;
    }
    return null;
  }

  public Double number(String key) {
    Object value = raw(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof Number number)) {
      throw wrongType(key, "a number");
    }
    return number.doubleValue();
  }

  public Boolean bool(String key) {
    Object value = raw(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof Boolean b)) {
      throw wrongType(key, "true or false");
    }
    return b;
  }

  public <E extends Enum<E>> E choice(String key, E[] values) {
    Object value = raw(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String text)) {
      List<String> ids = new ArrayList<>();
      for (E e : values) {
        ids.add(Choices.id(e));
      }
      throw wrongType(key, "one of " + ids);
    }
    return Choices.parse(key, text, values);
  }

  public List<Integer> integers(String key) {
    Object value = raw(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof List<?> list)) {
      throw wrongType(key, "a list of integers");
    }
    List<Integer> out = new ArrayList<>();
    for (Object element : list) {
      Integer exact = element == null ? null : exactInt(element);
      if (exact == null) {
        throw wrongType(key, "a list of integers");
      }
      out.add(exact);
    }
    return out;
  }

  public List<Double> numbers(String key) {
    Object value = raw(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof List<?> list)) {
      throw wrongType(key, "a list of numbers");
    }
    List<Double> out = new ArrayList<>();
    for (Object element : list) {
      if (!(element instanceof Number number)) {
        throw wrongType(key, "a list of numbers");
      }
      out.add(number.doubleValue());
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  public Map<String, Object> map(String key) {
    Object value = raw(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw wrongType(key, "a map of fields");
    }
    return (Map<String, Object>) map;
  }
}
