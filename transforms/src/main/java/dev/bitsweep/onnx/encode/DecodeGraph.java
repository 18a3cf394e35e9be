package dev.bitsweep.onnx.encode;

import com.google.protobuf.ByteString;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Collects the initializers and nodes of one weight's decode subgraph, valid at one default-domain opset.
 *
 * <p>Every op helper picks the form of the op that exists at that opset (Slice with attributes before 10, Range
 * from 11, ...) or an equivalent built from older ops, so encoders never check opsets for these building blocks.
 * Tensor names are {@code <weight>~<n>} for weights with short names and {@code ~<n>} otherwise (a long exporter
 * name repeated on every decode tensor would cost more than small weights' payload), unique in the model; decode
 * nodes carry no names of their own. Values another weight of the same graph already built (small constants, iotas,
 * byte tables, triangles; see {@link SharedDecodeValues}) are reused, not rebuilt, and chains of Reshapes collapse.
 */
final class DecodeGraph {
  static final int FLOAT = 1;
  static final int UINT8 = 2;
  static final int INT8 = 3;
  static final int INT32 = 6;
  static final int INT64 = 7;
  static final int BOOL = 9;
  static final int FLOAT16 = 10;
  static final int UINT32 = 12;
  static final int BFLOAT16 = 16;
  static final int UINT4 = 21;
  static final int INT4 = 22;

  /** Weight names up to this length prefix the names of their decode tensors. */
  static final int READABLE_NAME_LENGTH = 16;

  /** Block length of the MatMul prefix sums used before CumSum exists (opset 11). */
  private static final int PREFIX_BLOCK = 64;

  final int opset;
  private final String prefix;
  private final Predicate<String> taken;
  private final Set<String> used = new LinkedHashSet<>();
  private final List<Onnx.TensorProto> initializers = new ArrayList<>();
  private final List<Onnx.NodeProto.Builder> nodes = new ArrayList<>();
  private final Set<String> ops = new LinkedHashSet<>();
  private final Set<EncodingCatalog> components = new LinkedHashSet<>();
  private final List<String> notes = new ArrayList<>();
  private final SharedDecodeValues shared;
  private final Predicate<String> inGraph;
  /** Values of this decode by key: built here, or found in {@link #shared}. */
  private final Map<String, String> values = new HashMap<>();
  private final Map<String, SharedDecodeValues.Entry> created = new HashMap<>();
  private final Set<String> reused = new LinkedHashSet<>();
  private final Deque<Set<String>> opRecorders = new ArrayDeque<>();
  private final Deque<Set<EncodingCatalog>> componentRecorders = new ArrayDeque<>();
  /** Outputs of this decode's Reshape nodes and the tensor each reshapes. */
  private final Map<String, String> reshapeSources = new HashMap<>();
  private int counter;

  /** A decode on its own (nothing shared with other weights). */
  DecodeGraph(String weightName, int opset, Predicate<String> taken) {
    this(weightName, opset, taken, new SharedDecodeValues(), taken, 0);
  }

  /**
   * @param taken names that new tensors must not have (anywhere in the model)
   * @param shared values other weights of the same graph built
   * @param inGraph whether a name is defined in this graph (a shared value is reused only if it is)
   * @param firstName where numbering of generated names starts
   */
  DecodeGraph(String weightName, int opset, Predicate<String> taken, SharedDecodeValues shared,
      Predicate<String> inGraph, int firstName) {
    this.prefix = weightName.length() <= READABLE_NAME_LENGTH ? weightName + "~" : "~";
    this.opset = opset;
    this.taken = taken;
    this.shared = shared;
    this.inGraph = inGraph;
    this.counter = firstName;
  }

  /** The numbering position after this decode's names. */
  int nextName() {
    return counter;
  }

  /** Shared values this decode reads that earlier weights' nodes produce (its nodes must come after those). */
  Set<String> reused() {
    return reused;
  }

  /** Hands the values this decode built to the graph's shared values, once the decode is in the graph. */
  void share() {
    Set<String> kept = new HashSet<>();
    initializers.forEach(t -> kept.add(t.getName()));
    nodes.forEach(n -> kept.addAll(n.getOutputList()));
    shared.addAll(created, kept);
  }

  /**
   * The value under {@code key}: this decode's own, or another weight's of the same graph, or built now (and then
   * offered to later weights).
   */
  private String sharedValue(String key, Supplier<String> build) {
    String local = values.get(key);
    if (local != null) {
      return local;
    }
    SharedDecodeValues.Entry entry = shared.get(key, inGraph);
    if (entry != null) {
      entry.ops().forEach(this::recordOp);
      entry.components().forEach(this::use);
      reused.add(entry.name());
      values.put(key, entry.name());
      return entry.name();
    }
    Set<String> builtOps = new LinkedHashSet<>();
    Set<EncodingCatalog> builtComponents = new LinkedHashSet<>();
    opRecorders.push(builtOps);
    componentRecorders.push(builtComponents);
    String name;
    try {
      name = build.get();
    } finally {
      opRecorders.pop();
      componentRecorders.pop();
    }
    values.put(key, name);
    created.put(key, new SharedDecodeValues.Entry(name, List.copyOf(builtOps), List.copyOf(builtComponents)));
    return name;
  }

  private void recordOp(String op) {
    ops.add(op);
    opRecorders.forEach(r -> r.add(op));
  }

  List<Onnx.TensorProto> initializers() {
    return initializers;
  }

  List<Onnx.NodeProto> nodes() {
    return nodes.stream().map(Onnx.NodeProto.Builder::build).toList();
  }

  /** The op types the decode uses, in order of first use. */
  Set<String> ops() {
    return ops;
  }

  void use(EncodingCatalog component) {
    components.add(component);
    componentRecorders.forEach(r -> r.add(component));
  }

  Set<EncodingCatalog> components() {
    return components;
  }

  void note(String note) {
    notes.add(note);
  }

  List<String> notes() {
    return notes;
  }

  /**
   * Drops what the final output does not depend on (Reshapes bypassed by a collapsed chain, their shape constants),
   * except values offered to later weights.
   */
  void prune(String finalName) {
    boolean changed = true;
    while (changed) {
      changed = false;
      Set<String> consumed = new HashSet<>();
      nodes.forEach(n -> consumed.addAll(n.getInputList()));
      Set<String> sharedNames = new HashSet<>();
      created.values().forEach(e -> sharedNames.add(e.name()));
      for (int i = nodes.size() - 1; i >= 0; i--) {
        String out = nodes.get(i).getOutput(0);
        if (!out.equals(finalName) && !consumed.contains(out) && !sharedNames.contains(out)) {
          nodes.remove(i);
          changed = true;
        }
      }
      if (!changed) {
        for (int i = initializers.size() - 1; i >= 0; i--) {
          String name = initializers.get(i).getName();
          if (!name.equals(finalName) && !consumed.contains(name)) {
            initializers.remove(i);
            created.values().removeIf(e -> e.name().equals(name));
          }
        }
      }
    }
  }

  private String fresh() {
    while (true) {
      String name = prefix + Integer.toString(counter++, 36);
      if (!taken.test(name) && used.add(name)) {
        return name;
      }
    }
  }

  /** Renames the most recent output {@code last} (a node output or an initializer) to {@code finalName}. */
  void renameOutput(String last, String finalName) {
    if (reused.contains(last)) {
      // another weight's value, read under its own name: the weight is an Identity of it
      last = node("Identity", List.of(last));
    }
    String renamed = last;
    created.values().removeIf(e -> e.name().equals(renamed));
    for (int i = nodes.size() - 1; i >= 0; i--) {
      Onnx.NodeProto.Builder n = nodes.get(i);
      for (int o = 0; o < n.getOutputCount(); o++) {
        if (n.getOutput(o).equals(last)) {
          n.setOutput(o, finalName);
          return;
        }
      }
    }
    for (int i = 0; i < initializers.size(); i++) {
      if (initializers.get(i).getName().equals(last)) {
        initializers.set(i, initializers.get(i).toBuilder().setName(finalName).build());
        return;
      }
    }
    throw new IllegalStateException("no decode tensor named " + last);
  }

  // ---- initializers

  /** A new initializer; small constants (shapes, scalars) with equal type, dims and bytes are stored once. */
  String initializer(int dataType, long[] dims, byte[] raw) {
    if (raw.length <= 64) {
      return sharedValue("constant " + dataType + Arrays.toString(dims) + Arrays.toString(raw),
          () -> newInitializer(dataType, dims, raw));
    }
    return newInitializer(dataType, dims, raw);
  }

  private String newInitializer(int dataType, long[] dims, byte[] raw) {
    String name = fresh();
    Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(dataType);
    for (long d : dims) {
      t.addDims(d);
    }
    t.setRawData(ByteString.copyFrom(raw));
    initializers.add(t.build());
    return name;
  }

  String uint8s(byte[] values, long... dims) {
    return initializer(UINT8, dims, values);
  }

  String int64s(long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      b.putLong(v);
    }
    return initializer(INT64, new long[] {values.length}, b.array());
  }

  String int64Scalar(long value) {
    return initializer(INT64, new long[0], ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
  }

  String int32s(long[] dims, int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      b.putInt(v);
    }
    return initializer(INT32, dims, b.array());
  }

  String int32Scalar(int value) {
    return int32s(new long[0], value);
  }

  String uint32s(long[] dims, int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      b.putInt(v);
    }
    return initializer(UINT32, dims, b.array());
  }

  String floats(long[] dims, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return initializer(FLOAT, dims, b.array());
  }

  String float16s(long[] dims, short... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short v : values) {
      b.putShort(v);
    }
    return initializer(FLOAT16, dims, b.array());
  }

  // ---- nodes

  String node(String op, List<String> inputs, Onnx.AttributeProto... attributes) {
    String out = fresh();
    Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).addAllInput(inputs).addOutput(out);
    for (Onnx.AttributeProto a : attributes) {
      n.addAttribute(a);
    }
    nodes.add(n);
    recordOp(op);
    return out;
  }

  static Onnx.AttributeProto intAttr(String name, long value) {
    return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT).setI(value).build();
  }

  static Onnx.AttributeProto intsAttr(String name, long... values) {
    Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  static Onnx.AttributeProto stringAttr(String name, String value) {
    return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.STRING)
        .setS(ByteString.copyFromUtf8(value)).build();
  }

  String cast(String x, int to) {
    return node("Cast", List.of(x), intAttr("to", to));
  }

  /** Reshape; a Reshape of this decode's own Reshape reads the original tensor instead (the inner one is pruned). */
  String reshape(String x, long... shape) {
    String source = reshapeSources.getOrDefault(x, x);
    String out = node("Reshape", List.of(source, int64s(shape)));
    reshapeSources.put(out, source);
    return out;
  }

  String add(String a, String b) {
    return node("Add", List.of(a, b));
  }

  String sub(String a, String b) {
    return node("Sub", List.of(a, b));
  }

  String mul(String a, String b) {
    return node("Mul", List.of(a, b));
  }

  String div(String a, String b) {
    return node("Div", List.of(a, b));
  }

  String gather(String data, String indices, int axis) {
    // axis 0 is Gather's default at every opset
    return axis == 0 ? node("Gather", List.of(data, indices)) : node("Gather", List.of(data, indices), intAttr("axis", axis));
  }

  String transpose(String x, long... perm) {
    return node("Transpose", List.of(x), intsAttr("perm", perm));
  }

  String tile(String x, long... repeats) {
    return node("Tile", List.of(x, int64s(repeats)));
  }

  String concat(int axis, String... parts) {
    return node("Concat", List.of(parts), intAttr("axis", axis));
  }

  /** {@code x[start:end]} along {@code axis}. */
  String slice(String x, int axis, long start, long end) {
    if (opset < 10) {
      return node("Slice", List.of(x), intsAttr("starts", start), intsAttr("ends", end), intsAttr("axes", axis));
    }
    return node("Slice", List.of(x, int64s(start), int64s(end), int64s(axis)));
  }

  /** Keeps the first {@code length} elements of a 1-D tensor of {@code actualLength} elements. */
  String truncate(String x, long actualLength, long length) {
    return actualLength == length ? x : slice(x, 0, 0, length);
  }

  /** int32 [n] = 0, 1, ..., n-1. */
  String iota(int n) {
    return sharedValue("iota " + n, () -> buildIota(n));
  }

  private String buildIota(int n) {
    if (opset >= 11) {
      return node("Range", List.of(int32Scalar(0), int32Scalar(n), int32Scalar(1)));
    }
    int base = Math.min(n, 16);
    byte[] digits = new byte[base];
    for (int i = 0; i < base; i++) {
      digits[i] = (byte) i;
    }
    String digitsName = cast(uint8s(digits, base), INT32);
    String current = digitsName;
    long length = base;
    while (length < n) {
      String high = mul(reshape(current, length, 1), int32Scalar(base));
      current = reshape(add(high, reshape(digitsName, 1, base)), length * base);
      length *= base;
    }
    return truncate(current, length, n);
  }

  /**
   * Unpacks a {@code bits}-bit plane ({@link BitPacking#packPlane}) stored as the uint8 initializer {@code packed} of
   * {@code packedBytes} bytes into a flat int32 tensor of {@code packedBytes * 8 / bits} values (the tail may be
   * padding): one Gather of every byte's values from a [256, 8/bits] table computed from an iota.
   */
  String unpackPlane(String packed, int packedBytes, int bits) {
    return unpackPlane(packed, packedBytes, bits, 0);
  }

  /** The same with every value multiplied by {@code 2^shift} (bits {@code shift..} of a multi-plane code). */
  String unpackPlane(String packed, int packedBytes, int bits, int shift) {
    String bytes = cast(packed, INT32);
    if (bits == 8) {
      use(EncodingCatalog.UNPACK_ARITH);
      return shift == 0 ? bytes : mul(bytes, int32Scalar(1 << shift));
    }
    String values = gather(byteTable(bits, shift), bytes, 0);
    return reshape(values, (long) packedBytes * (8 / bits));
  }

  /** int32 [256, 8/bits]: the values of every byte value, lowest bits first ([256] for 8 bits). */
  String byteTable(int bits) {
    if (bits == 8) {
      use(EncodingCatalog.UNPACK_ARITH);
      return iota(256);
    }
    return sharedValue("byte table " + bits, () -> buildByteTable(bits));
  }

  /** The byte table times {@code 2^shift}: a plane's values already in place for the sum of planes. */
  String byteTable(int bits, int shift) {
    if (shift == 0) {
      return byteTable(bits);
    }
    return sharedValue("byte table " + bits + " << " + shift, () -> mul(byteTable(bits), int32Scalar(1 << shift)));
  }

  /** {@link #byteTable(int, int)} as {@code [256, 2, ..., 2]}: the {@code 8 / bits} values of a byte in halves. */
  String byteTableInHalves(int bits, int shift) {
    long[] dims = CodeStream.halvings(256, 8 / bits);
    if (dims.length == 2) {
      return byteTable(bits, shift);
    }
    return sharedValue("byte table " + bits + " << " + shift + " in halves",
        () -> reshape(byteTable(bits, shift), dims));
  }

  private String buildByteTable(int bits) {
    int perByte = 8 / bits;
    int[] steps = new int[perByte];
    boolean bitwise = opset >= 18;
    use(bitwise ? EncodingCatalog.UNPACK_BITWISE : EncodingCatalog.UNPACK_ARITH);
    for (int j = 0; j < perByte; j++) {
      steps[j] = bitwise ? bits * j : 1 << (bits * j);
    }
    long[] slotRow = {1, perByte};
    if (bitwise) {
      String byteValues = reshape(cast(iota(256), UINT32), 256, 1);
      String shifted = node("BitShift", List.of(byteValues, uint32s(slotRow, steps)), stringAttr("direction", "RIGHT"));
      return cast(node("BitwiseAnd", List.of(shifted, uint32s(new long[0], (1 << bits) - 1))), INT32);
    }
    // x mod m = x - (x / m) * m on non-negative integers: exact at every opset.
    String shifted = div(reshape(iota(256), 256, 1), int32s(slotRow, steps));
    String modulus = int32Scalar(1 << bits);
    return sub(shifted, mul(div(shifted, modulus), modulus));
  }

  /** Two's complement reinterpretation of unpacked {@code bits}-bit values (0..2^bits-1) as signed. */
  String signExtend(String unsigned, int bits) {
    String half = int32Scalar(1 << (bits - 1));
    String full = int32Scalar(1 << bits);
    return sub(unsigned, mul(div(unsigned, half), full));
  }

  /**
   * Inclusive prefix sums of a flat int32 tensor of 0/1 values of {@code length} elements, as int32. CumSum from
   * opset 11; before that, blocked MatMuls with a triangular ones matrix built from an iota (exact in float while
   * every sum stays below 2^24, which the caller guarantees).
   */
  String prefixSum(String x, long length) {
    if (opset >= 11) {
      use(EncodingCatalog.SPARSE_CUMSUM);
      return node("CumSum", List.of(x, int32Scalar(0)));
    }
    use(EncodingCatalog.SPARSE_MATMUL_PREFIX);
    return cast(blockedPrefixSum(cast(x, FLOAT), length), INT32);
  }

  private String blockedPrefixSum(String x, long length) {
    if (length <= PREFIX_BLOCK) {
      String row = reshape(x, 1, length);
      return reshape(node("MatMul", List.of(row, upperTriangle((int) length))), length);
    }
    long blocks = (length + PREFIX_BLOCK - 1) / PREFIX_BLOCK;
    long padded = blocks * PREFIX_BLOCK;
    String full = padded == length ? x : concat(0, x, tile(floats(new long[] {1}, 0f), padded - length));
    String within = node("MatMul", List.of(reshape(full, blocks, PREFIX_BLOCK), upperTriangle(PREFIX_BLOCK)));
    String totals = gather(within, int64Scalar(PREFIX_BLOCK - 1), 1);
    String before = sub(blockedPrefixSum(totals, blocks), totals);
    String sums = reshape(add(within, reshape(before, blocks, 1)), padded);
    return truncate(sums, padded, length);
  }

  /** float [n, n] with ones where row <= column. */
  private String upperTriangle(int n) {
    return sharedValue("triangle " + n, () -> buildUpperTriangle(n));
  }

  private String buildUpperTriangle(int n) {
    String index = cast(iota(n), FLOAT);
    String below = node("Less", List.of(reshape(index, 1, n), reshape(index, n, 1)));
    return cast(node("Not", List.of(below)), FLOAT);
  }
}
