package dev.bitsweep.cli;

import static dev.bitsweep.cli.CliRun.bitsweep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bitsweep.Fixtures;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog of bad and hostile inputs (with BadInputTest and BadDataAndModelTest): each row is an
 * input, the exit code it must end with and the one error line it must print, and nothing may be published. A
 * message given as {@code exact(...)} is the whole line after {@code bitsweep: error: }; {@code containing(...)}
 * lists fragments of a line that quotes another tool (ONNX Runtime).
 */
class BadInputCatalogTest {
  @TempDir Path dir;

  /** What a case writes into its directory: the spec and whatever else; returns the command line. */
  interface Setup {
    List<String> write(Path dir) throws IOException;
  }

  /** The expected error line, from the case's directory. */
  interface Expected {
    void check(Path dir, String line);
  }

  static Expected exact(java.util.function.Function<Path, String> message) {
    return (dir, line) -> assertEquals("bitsweep: error: " + message.apply(dir), line);
  }

  static Expected containing(java.util.function.Function<Path, List<String>> fragments) {
    return (dir, line) -> {
      assertTrue(line.startsWith("bitsweep: error: "), line);
      for (String fragment : fragments.apply(dir)) {
        assertTrue(line.contains(fragment), "expected '" + fragment + "' in: " + line);
      }
    };
  }

  private static Arguments row(String name, Setup setup, int exitCode, Expected expected) {
    return Arguments.of(Named.of(name, setup), exitCode, expected);
  }

  static final String DIGITS = Fixtures.digits().toString();
  static final String INT8 = CliRun.INT8;

  /** A spec with the digits model and data, {@code out} in the case's directory, and {@code rest} after it. */
  static String spec(Path dir, String rest) {
    return "name: bad\nmodel: " + DIGITS + "/model.onnx\ntask: classification\neval_data: " + DIGITS + "/eval\nout: "
        + dir.resolve("out") + "\n" + rest;
  }

  static List<String> sweep(Path dir, String text) throws IOException {
    Path spec = dir.resolve("spec.yaml");
    Files.writeString(spec, text);
    return List.of("sweep", spec.toString());
  }

  static String specFile(Path dir) {
    return dir.resolve("spec.yaml").toString();
  }

  /** The digits model, edited. */
  static Path model(Path dir, UnaryOperator<Onnx.ModelProto> edit) throws IOException {
    Onnx.ModelProto original = Onnx.ModelProto.parseFrom(Files.readAllBytes(Fixtures.digits().resolve("model.onnx")));
    Path file = dir.resolve("model.onnx");
    Files.write(file, edit.apply(original).toByteArray());
    return file;
  }

  /** The digits model with classifier.0.weight's flat element {@code index} set to {@code value}. */
  static Onnx.ModelProto withWeight(Onnx.ModelProto model, int index, float value) {
    Onnx.ModelProto.Builder builder = model.toBuilder();
    for (Onnx.TensorProto.Builder tensor : builder.getGraphBuilder().getInitializerBuilderList()) {
      if (tensor.getName().equals("classifier.0.weight")) {
        if (tensor.getFloatDataCount() > 0) {
          tensor.setFloatData(index, value);
        } else {
          ByteBuffer raw = ByteBuffer.wrap(tensor.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
          raw.putFloat(4 * index, value);
          tensor.setRawData(ByteString.copyFrom(raw.array()));
        }
        return builder.build();
      }
    }
    throw new IllegalStateException("no classifier.0.weight in the digits model");
  }

  static void npy(Path file, String descr, int[] shape) throws IOException {
    String dims = shape.length == 1 ? shape[0] + "," : IntStream.of(shape).mapToObj(String::valueOf)
        .collect(Collectors.joining(", "));
    StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims
        + "), }");
    while ((10 + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    ByteBuffer prefix = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    prefix.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
        .putShort((short) header.length());
    Files.createDirectories(file.getParent());
    Files.write(file, concat(prefix.array(), header.toString().getBytes(StandardCharsets.US_ASCII)));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = new byte[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  static Stream<Arguments> catalog() {
    List<Arguments> rows = new ArrayList<>();
    // --- config ids and names become directories: never '.', '..', a separator or a hidden name
    for (String id : new String[] {"..", ".", "a/b", ".hidden", "-rf"}) {
      rows.add(row("config id '" + id + "'", d -> sweep(d, spec(d, "configs:\n  - id: '" + id + "'\n"
          + "    method: linear_quantize\n    mode: linear_symmetric\n    dtype: int8\n")), 2,
          exact(d -> specFile(d) + ":7: configs[0].id: '" + id + "' must start with a letter or digit and use only"
              + " letters, digits, '.', '_' and '-', at most 200 characters (it names a directory)")));
    }
    for (String name : new String[] {"..", "a/b"}) {
      rows.add(row("sweep name '" + name + "'", d -> sweep(d, spec(d, INT8).replace("name: bad", "name: '" + name + "'")),
          2, exact(d -> specFile(d) + ":1: name: '" + name + "' must start with a letter or digit and use only"
              + " letters, digits, '.', '_' and '-', at most 200 characters (it names directories)")));
    }
    rows.add(row("no name, and the spec file's name is not a safe name", d -> {
      Path spec = d.resolve("my sweep.yaml");
      Files.writeString(spec, spec(d, INT8).replace("name: bad\n", ""));
      return List.of("sweep", spec.toString());
    }, 2, exact(d -> d.resolve("my sweep.yaml") + ":1: 'my sweep' must start with a letter or digit and use only"
        + " letters, digits, '.', '_' and '-', at most 200 characters (it names directories); the spec file's name is"
        + " used when there is no 'name', so add one")));
    // --- the spec file itself
    rows.add(row("a binary file as spec", d -> {
      Path spec = d.resolve("spec.yaml");
      Files.copy(Fixtures.digits().resolve("model.onnx"), spec);
      return List.of("sweep", spec.toString());
    }, 2, exact(d -> specFile(d) + ": not a text file (it is not UTF-8); a sweep spec is YAML text, e.g."
        + " calibration-data/digits/sweep.yaml")));
    rows.add(row("an empty spec", d -> sweep(d, ""), 2, exact(d -> specFile(d) + ": the sweep spec is empty")));
    rows.add(row("a spec with no configs", d -> sweep(d, spec(d, "")), 2, exact(d -> specFile(d)
        + ":1: the sweep has no configs: add a 'configs' list or a 'grid' (see calibration-data/digits/sweep.yaml)")));
    rows.add(row("a spec without model", d -> sweep(d, spec(d, INT8).replaceFirst("model: .*\n", "")), 2,
        exact(d -> specFile(d) + ":1: missing required key 'model'")));
    rows.add(row("a spec without eval_data", d -> sweep(d, spec(d, INT8).replaceFirst("eval_data: .*\n", "")), 2,
        exact(d -> specFile(d) + ":1: missing required key 'eval_data'")));
    rows.add(row("batch_size 0", d -> sweep(d, spec(d, "batch_size: 0\n" + INT8)), 2,
        exact(d -> specFile(d) + ":6: batch_size: must be > 0, got 0")));
    rows.add(row("negative eval_samples", d -> sweep(d, spec(d, "eval_samples: -5\n" + INT8)), 2,
        exact(d -> specFile(d) + ":6: eval_samples: must be >= 0, got -5")));
    rows.add(row("negative weight_threshold", d -> sweep(d, spec(d, "weight_threshold: -1\n" + INT8)), 2,
        exact(d -> specFile(d) + ":6: weight_threshold: weight_threshold must be >= 0 elements")));
    rows.add(row("an invalid layer regex", d -> sweep(d, spec(d, INT8 + "    layers:\n      're:[': null\n")), 2,
        containing(d -> List.of(specFile(d) + ":12: configs[0].layers.re:[: layer pattern '[' is not a valid regular expression"))));
    rows.add(row("two configs with the same explicit id", d -> sweep(d, spec(d, "configs:\n"
        + "  - {id: same, method: linear_quantize, mode: linear_symmetric, dtype: int8}\n"
        + "  - {id: same, method: linear_quantize, mode: linear_symmetric, dtype: int4}\n")), 2,
        exact(d -> specFile(d) + ":8: configs[1]: config id 'same' is produced twice (also at line 7); remove the duplicate, or"
            + " give one another id")));
    rows.add(row("two grid entries generating the same id", d -> sweep(d, spec(d, "grid:\n"
        + "  - {method: prune, mode: magnitude, target_sparsity: [0.5, 0.75]}\n"
        + "  - {method: prune, mode: magnitude, target_sparsity: 0.5}\n")), 2,
        exact(d -> specFile(d) + ":8: grid[1]: config id 'prune-magnitude-s50' is produced twice (also at line 7); remove the"
            + " duplicate, or move the configs into 'configs:' entries, each with its own 'id:'")));
    rows.add(row("a grid entry with an id", d -> sweep(d, spec(d, "grid:\n"
        + "  - {id: mine, method: prune, mode: magnitude, target_sparsity: [0.5, 0.75]}\n")), 2,
        exact(d -> specFile(d) + ":7: grid[0].id: grid entries get their ids generated; use 'configs' for a config with an"
            + " explicit id")));
    rows.add(row("a 10,000-config grid", d -> {
      String sparsities = IntStream.range(0, 100).mapToObj(i -> String.valueOf(0.005 + i / 200.0))
          .collect(Collectors.joining(", "));
      String blocks = IntStream.range(1, 101).mapToObj(String::valueOf).collect(Collectors.joining(", "));
      return sweep(d, spec(d, "grid:\n  - method: prune\n    mode: magnitude\n    target_sparsity: [" + sparsities
          + "]\n    block_size: [" + blocks + "]\n"));
    }, 2, exact(d -> specFile(d) + ":7: grid: the sweep has 10000 configs (grid line 7: 10000 (100 values of"
        + " 'target_sparsity')), more than the 1000 one sweep may hold; split it into several specs of at most 1000"
        + " configs each (e.g. one spec per value of the widest list, all with the same 'out' so their results sit"
        + " side by side)")));
    // --- the output directory
    rows.add(row("out is a file", d -> {
      Files.writeString(d.resolve("out"), "a file, not a directory");
      return sweep(d, spec(d, INT8));
    }, 2, exact(d -> "cannot write to the output directory " + d.resolve("out") + " (" + d.resolve("out")
        + " is a file, not a directory); choose a writable directory with --out or the spec's 'out'")));
    rows.add(row("--out below a file", d -> {
      Files.writeString(d.resolve("file"), "x");
      List<String> args = new ArrayList<>(sweep(d, spec(d, INT8)));
      args.addAll(List.of("--out", d.resolve("file/out").toString()));
      return args;
    }, 2, exact(d -> "cannot write to the output directory " + d.resolve("file/out") + " (" + d.resolve("file")
        + " is a file, not a directory); choose a writable directory with --out or the spec's 'out'")));
    // --- models that are valid ONNX but cannot be swept: found before the job, not as failed rows
    rows.add(row("a NaN weight", d -> {
      Path model = model(d, m -> withWeight(m, 389, Float.NaN));
      return sweep(d, spec(d, INT8).replace(DIGITS + "/model.onnx", model.toString()));
    }, 2, exact(d -> "layer classifier.0.weight of " + d.resolve("model.onnx") + " contains NaN at flat index 389:"
        + " fix the model's weights (or exclude the layer with a null config) and run again")));
    rows.add(row("infinite weights", d -> {
      Path model = model(d, m -> withWeight(withWeight(m, 7, Float.NEGATIVE_INFINITY), 9, Float.POSITIVE_INFINITY));
      return sweep(d, spec(d, INT8).replace(DIGITS + "/model.onnx", model.toString()));
    }, 2, exact(d -> "layer classifier.0.weight of " + d.resolve("model.onnx") + " contains -Infinity at flat index 7:"
        + " fix the model's weights (or exclude the layer with a null config) and run again")));
    rows.add(row("opset 6", d -> {
      Path model = model(d, m -> m.toBuilder().setOpsetImport(0, m.getOpsetImport(0).toBuilder().setVersion(6))
          .build());
      return sweep(d, spec(d, INT8).replace(DIGITS + "/model.onnx", model.toString()));
    }, 2, exact(d -> "model " + d.resolve("model.onnx") + " uses opset 6; ONNX Runtime and bitsweep need opset 7 or"
        + " newer: convert it, e.g. with onnx.version_converter.convert_version(model, 13)")));
    rows.add(row("a graph ONNX Runtime rejects (unknown operator)", d -> {
      Path model = model(d, m -> {
        Onnx.ModelProto.Builder b = m.toBuilder();
        for (Onnx.NodeProto.Builder node : b.getGraphBuilder().getNodeBuilderList()) {
          if (node.getOpType().equals("Relu")) {
            node.setOpType("NoSuchOperator");
            break;
          }
        }
        return b.build();
      });
      return sweep(d, spec(d, INT8).replace(DIGITS + "/model.onnx", model.toString()));
    }, 2, containing(d -> List.of("ONNX Runtime cannot load " + d.resolve("model.onnx") + ": ", "NoSuchOperator",
        "; bitsweep evaluates every package against the original model with ONNX Runtime, so it must load"))));
    rows.add(row("eval data with 0 samples", d -> {
      npy(d.resolve("eval/input.npy"), "<f4", new int[] {0, 1, 8, 8});
      npy(d.resolve("eval/labels.npy"), "<i8", new int[] {0});
      return sweep(d, spec(d, INT8).replace(DIGITS + "/eval", d.resolve("eval").toString()));
    }, 2, exact(d -> specFile(d) + ": eval_data " + d.resolve("eval") + " holds no samples (its arrays have 0 rows);"
        + " give it at least one sample per model input")));
    return rows.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("catalog")
  void badInputEndsWithItsExitCodeAndOneLine(Setup setup, int exitCode, Expected expected) throws IOException {
    Path caseDir = Files.createDirectories(dir.resolve("case"));
    List<String> args = setup.write(caseDir);
    CliRun.Outcome outcome = bitsweep(args.toArray(String[]::new));
    assertEquals(exitCode, outcome.exitCode(), outcome.err() + outcome.out());
    List<String> lines = outcome.err().lines().toList();
    assertEquals(1, lines.size(), "one line: " + outcome.err());
    expected.check(caseDir, lines.get(0));
    assertFalse(Files.exists(caseDir.resolve("out").resolve("runs")), "no results may be published");
    assertFalse(Files.isDirectory(caseDir.resolve("out").resolve(".staging")) && hasEntries(caseDir.resolve("out/.staging")),
        "no staging area is left");
  }

  @org.junit.jupiter.api.Test
  void gridValuesThatRoundAlikeGetDistinctIds() throws IOException {
    sweep(dir, spec(dir, "grid:\n  - {method: prune, mode: magnitude, target_sparsity: [0.5, 0.504, 0.125]}\n"));
    assertEquals(List.of("prune-magnitude-s50", "prune-magnitude-s50.4", "prune-magnitude-s12.5"),
        dev.bitsweep.spec.SweepSpec.read(dir.resolve("spec.yaml")).configs().stream()
            .map(dev.bitsweep.spec.SweepConfig::configId).toList());
  }

  private static boolean hasEntries(Path directory) throws IOException {
    try (Stream<Path> list = Files.list(directory)) {
      return list.findAny().isPresent();
    }
  }

}
