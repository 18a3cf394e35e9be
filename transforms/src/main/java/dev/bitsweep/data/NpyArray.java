package dev.bitsweep.data;

import dev.bitsweep.compress.Float16;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A NumPy .npy array (format versions 1–3, C order, little-endian float32/float16/float64/int64/int32/uint8/bool).
 * The first axis is the sample axis. Values are kept as raw little-endian bytes.
 */
public final class NpyArray {
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private final Path file;
  private final String dtype;
  private final long[] shape;
  private final ByteBuffer data;

  private NpyArray(Path file, String dtype, long[] shape, ByteBuffer data) {
    this.file = file;
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
  }

  /** An array from raw little-endian bytes (e.g. an ONNX TensorProto), named after its source. */
  public static NpyArray of(Path source, String dtype, long[] shape, ByteBuffer data) {
    long count = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    if (data.remaining() != count * width(dtype)) {
      throw new DataException(source + " holds " + data.remaining() + " bytes but " + Arrays.toString(shape) + " "
          + dtype + " needs " + count * width(dtype));
    }
    return new NpyArray(source, dtype, shape.clone(), data.slice().order(ByteOrder.LITTLE_ENDIAN));
  }

  /** Stacks arrays of equal per-sample shape along the first axis. */
  public static NpyArray concat(Path source, java.util.List<NpyArray> parts) {
    NpyArray first = parts.get(0);
    long samples = 0;
    int bytes = 0;
    for (NpyArray part : parts) {
      long[] shape = part.shape();
      shape[0] = first.shape[0];
      if (!part.dtype.equals(first.dtype) || !Arrays.equals(shape, first.shape)) {
        throw new DataException(part.file + " has " + part.dtype + " " + Arrays.toString(part.shape) + " but "
            + first.file + " has " + first.dtype + " " + Arrays.toString(first.shape) + ": every part needs the same per-sample shape");
      }
      samples += part.shape[0];
      bytes += part.data.remaining();
    }
    ByteBuffer data = ByteBuffer.allocate(bytes);
    for (NpyArray part : parts) {
      data.put(part.data.duplicate());
    }
    data.flip();
    long[] shape = first.shape();
    shape[0] = samples;
    return of(source, first.dtype, shape, data);
  }

  public static NpyArray read(Path file) {
    return read(file, "float32");
  }

  /** {@code numericDtype} is the dtype the advice for a pickled (object) file names, e.g. int64 for labels. */
  public static NpyArray read(Path file, String numericDtype) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new DataException("data file not found: " + file);
    } catch (IOException e) {
      throw new DataException("cannot read data file " + file + ": " + e.getMessage());
    }
    if (bytes.length < 10 || bytes[0] != (byte) 0x93 || !new String(bytes, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
      throw new DataException("data file " + file + " is not a NumPy .npy file (bad magic); save it with numpy.save");
    }
    int major = bytes[6];
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int headerLength;
    int headerStart;
    if (major == 1) {
      headerLength = buffer.getShort(8) & 0xffff;
      headerStart = 10;
    } else {
      headerLength = buffer.getInt(8);
      headerStart = 12;
    }
    if (headerStart + headerLength > bytes.length) {
      throw new DataException("data file " + file + " is truncated (header runs past the end)");
    }
    String header = new String(bytes, headerStart, headerLength, StandardCharsets.ISO_8859_1);
    String descr = group(DESCR, header, file, "descr");
    if (group(FORTRAN, header, file, "fortran_order").equals("True")) {
      throw new DataException("data file " + file + " is in Fortran order; save a C-ordered array (numpy.ascontiguousarray)");
    }
    long[] shape = Arrays.stream(group(SHAPE, header, file, "shape").split(","))
        .map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
    String dtype = switch (descr) {
      case "<f4" -> "float32";
      case "<f2" -> "float16";
      case "<f8" -> "float64";
      case "<i8" -> "int64";
      case "<i4" -> "int32";
      case "|u1", "<u1" -> "uint8";
      case "|b1" -> "bool";
      case "|O", "<O", ">O" -> throw new DataException("data file " + file + " holds a pickled object array, not numeric"
          + " data: save a numeric array (numpy.save(path, arr.astype(numpy." + numericDtype + "), allow_pickle=False))");
      default -> throw new DataException("data file " + file + " has dtype " + descr
          + "; supported: float32, float16, float64, int64, int32, uint8, bool (little-endian)");
    };
    long count = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    int start = headerStart + headerLength;
    long expected = count * width(dtype);
    if (bytes.length - start != expected) {
      throw new DataException("data file " + file + " holds " + (bytes.length - start) + " data bytes but its header "
          + Arrays.toString(shape) + " " + dtype + " needs " + expected + "; the file is truncated or corrupt");
    }
    ByteBuffer data = ByteBuffer.wrap(bytes, start, (int) expected).slice().order(ByteOrder.LITTLE_ENDIAN);
    return new NpyArray(file, dtype, shape, data);
  }

  private static String group(Pattern pattern, String header, Path file, String key) {
    Matcher matcher = pattern.matcher(header);
    if (!matcher.find()) {
      throw new DataException("data file " + file + " has a .npy header without '" + key + "'");
    }
    return matcher.group(1);
  }

  static int width(String dtype) {
    return switch (dtype) {
      case "float64", "int64" -> 8;
      case "float32", "int32" -> 4;
      case "float16" -> 2;
      default -> 1;
    };
  }

  public Path file() {
    return file;
  }

  public String dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int samples() {
    return shape.length == 0 ? 1 : Math.toIntExact(shape[0]);
  }

  public int sampleSize() {
    long n = 1;
    for (int i = 1; i < shape.length; i++) {
      n *= shape[i];
    }
    return Math.toIntExact(n);
  }

  /** Samples [from, to) as float32 values. */
  public float[] floats(int from, int to) {
    int n = sampleSize();
    float[] out = new float[(to - from) * n];
    if (dtype.equals("float32")) {
      // bulk copy: evaluation slices a batch out of the eval set for every run
      data.duplicate().order(data.order()).position(from * n * 4).slice().order(data.order()).asFloatBuffer().get(out);
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      int index = from * n + i;
      out[i] = switch (dtype) {
        case "float32" -> data.getFloat(index * 4);
        case "float16" -> Float16.toFloat(data.getShort(index * 2));
        case "float64" -> (float) data.getDouble(index * 8);
        case "int64" -> data.getLong(index * 8);
        case "int32" -> data.getInt(index * 4);
        default -> data.get(index) & 0xff;
      };
    }
    return out;
  }

  /** Samples [from, to) of a float16 array as their IEEE half-precision bits. */
  public short[] halfBits(int from, int to) {
    if (!dtype.equals("float16")) {
      throw new IllegalStateException(file + " is " + dtype + ", not float16");
    }
    int n = sampleSize();
    short[] out = new short[(to - from) * n];
    for (int i = 0; i < out.length; i++) {
      out[i] = data.getShort((from * n + i) * 2);
    }
    return out;
  }

  /** The flat index of the first NaN or infinite value, or -1 (always -1 for integer dtypes). */
  public long firstNonFinite() {
    boolean floating = dtype.equals("float32") || dtype.equals("float16") || dtype.equals("float64");
    if (!floating) {
      return -1;
    }
    long count = (long) data.remaining() / width(dtype);
    for (long i = 0; i < count; i++) {
      int at = (int) i;
      double value = switch (dtype) {
        case "float32" -> data.getFloat(at * 4);
        case "float16" -> Float16.toFloat(data.getShort(at * 2));
        default -> data.getDouble(at * 8);
      };
      if (!Double.isFinite(value)) {
        return i;
      }
    }
    return -1;
  }

  /** The value at a flat index as a double (for messages). */
  public double valueAt(long index) {
    int at = Math.toIntExact(index);
    return switch (dtype) {
      case "float32" -> data.getFloat(at * 4);
      case "float16" -> Float16.toFloat(data.getShort(at * 2));
      case "float64" -> data.getDouble(at * 8);
      case "int64" -> data.getLong(at * 8);
      case "int32" -> data.getInt(at * 4);
      default -> data.get(at) & 0xff;
    };
  }

  /** Samples [from, to) as int64 values. */
  public long[] longs(int from, int to) {
    int n = sampleSize();
    long[] out = new long[(to - from) * n];
    if (dtype.equals("int64")) {
      data.duplicate().order(data.order()).position(from * n * 8).slice().order(data.order()).asLongBuffer().get(out);
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      int index = from * n + i;
      out[i] = switch (dtype) {
        case "int64" -> data.getLong(index * 8);
        case "int32" -> data.getInt(index * 4);
        case "float32" -> (long) data.getFloat(index * 4);
        case "float16" -> (long) Float16.toFloat(data.getShort(index * 2));
        case "float64" -> (long) data.getDouble(index * 8);
        default -> data.get(index) & 0xff;
      };
    }
    return out;
  }
}
