package dev.bitsweep.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bitsweep.Fixtures;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task language_model on models and data it cannot mean anything for ends with exit code 2 before any job runs,
 * naming the inputs or outputs and the field to set, and publishes nothing: no int64 input, two int64 inputs and
 * none named, a named input the model lacks, logits of rank 2 (by default and named), token ids outside the logits'
 * vocabulary.
 */
class LanguageModelBadInputTest {
  @TempDir Path dir;

  private static final String INT8 = "configs:\n  - {method: linear_quantize, mode: linear_symmetric, dtype: int8, "
      + "granularity: per_channel}\nweight_threshold: 0\n";

  private String run(String specText, String... fragments) throws IOException {
    Path spec = dir.resolve("spec.yaml");
    Files.writeString(spec, specText + "out: " + dir.resolve("out") + "\n");
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = Main.execute(new String[] {"sweep", spec.toString(), "--runner", "direct"});
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
    String message = err.toString(StandardCharsets.UTF_8);
    assertEquals(ExitCodes.BAD_INPUT, code, message + out);
    for (String fragment : fragments) {
      assertTrue(message.contains(fragment), "expected '" + fragment + "' in: " + message);
    }
    assertFalse(Files.exists(dir.resolve("out").resolve("runs")), "no results may be published");
    return message;
  }

  private String spec(Path model, String task, Path eval) {
    return "name: bad-lm\nmodel: " + model + "\ntask: " + task + "\neval_data: " + eval + "\n" + INT8;
  }

  @Test
  void aModelWithoutAnInt64Input() throws IOException {
    Path digits = Fixtures.digits();
    run(spec(digits.resolve("model.onnx"), "language_model", digits.resolve("eval")),
        "spec.yaml: task language_model: the model has no int64 input", "input FLOAT [?,1,8,8]");
  }

  @Test
  void twoInt64InputsAndNoneNamed() throws IOException {
    Path eval = data(10);
    Path model = model(true, false);
    run(spec(model, "language_model", eval), "several int64 inputs [ids, segments]",
        "task: {name: language_model, input: <name>}");
    run(spec(model, "{name: language_model, input: tokens}", eval), "input 'tokens' is not an input of",
        "ids INT64 [?,6]");
    run(spec(model, "{name: language_model, input: ids, attention_mask: mask}", eval),
        "attention_mask 'mask' is not an input of");
  }

  @Test
  void logitsOfRankTwo() throws IOException {
    Path eval = data(10);
    Path model = model(false, true);
    run(spec(model, "{name: language_model, input: ids}", eval), "the model has no float output of rank 3",
        "logits FLOAT [?,16]", "task: {name: language_model, output: <name>}");
    run(spec(model, "{name: language_model, input: ids, output: logits}", eval), "output 'logits' has rank 2",
        "logits [batch, sequence, vocabulary] (rank 3)");
  }

  @Test
  void tokenIdsOutsideTheLogitsVocabulary() throws IOException {
    // the embedding has 32 rows (ONNX Runtime runs ids up to 31) but the logits only 16 entries
    Path eval = data(20);
    run(spec(model(true, false), "{name: language_model, input: ids}", eval), "task language_model cannot mean",
        "token id 20 at sample 0, position 3 of input 'ids' is outside the vocabulary of output 'logits' (16 logits");
  }

  /** ids and segments [4, 6] int64 (segments all 0); ids[0][3] = {@code special}, the rest below 16. */
  private Path data(long special) throws IOException {
    Path eval = dir.resolve("eval-" + special);
    Files.createDirectories(eval);
    long[] ids = new long[24];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (i * 5) % 16;
    }
    ids[3] = special;
    writeInt64(eval.resolve("ids.npy"), ids);
    writeInt64(eval.resolve("segments.npy"), new long[24]);
    return eval;
  }

  private static void writeInt64(Path file, long[] values) throws IOException {
    StringBuilder header = new StringBuilder("{'descr': '<i8', 'fortran_order': False, 'shape': (4, 6), }");
    while ((10 + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    ByteBuffer bytes = ByteBuffer.allocate(10 + header.length() + 8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    bytes.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
    bytes.put(header.toString().getBytes(StandardCharsets.US_ASCII));
    for (long v : values) {
      bytes.putLong(v);
    }
    Files.write(file, bytes.array());
  }

  /**
   * ids, segments int64 [N, 6] -> Gather(embed [32, 8], ids) + Gather(embed, segments) -> MatMul [8, 16] -> logits
   * [N, 6, 16]; with {@code pooled}, the positions are averaged first (logits [N, 16]).
   */
  private Path model(boolean unused, boolean pooled) throws IOException {
    Random random = new Random(7);
    Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("tiny")
        .addInitializer(weights("embed", random, 32, 8)).addInitializer(weights("head", random, 8, 16))
        .addInput(value("ids", dev.bitsweep.onnx.DataType.INT64, -1, 6))
        .addInput(value("segments", dev.bitsweep.onnx.DataType.INT64, -1, 6))
        .addNode(node("Gather", "embed", "ids", "h"))
        .addNode(node("Gather", "embed", "segments", "g"))
        .addNode(node("Add", "h", "g", "x"));
    if (pooled) {
      graph.addNode(Onnx.NodeProto.newBuilder().setOpType("ReduceMean").addInput("x").addOutput("pooled")
          .addAttribute(Onnx.AttributeProto.newBuilder().setName("axes").setType(Onnx.AttributeProto.AttributeType.INTS)
              .addInts(1))
          .addAttribute(Onnx.AttributeProto.newBuilder().setName("keepdims").setType(Onnx.AttributeProto.AttributeType.INT)
              .setI(0)));
      graph.addNode(node("MatMul", "pooled", "head", "logits"));
      graph.addOutput(value("logits", dev.bitsweep.onnx.DataType.FLOAT, -1, 16));
    } else {
      graph.addNode(node("MatMul", "x", "head", "logits"));
      graph.addOutput(value("logits", dev.bitsweep.onnx.DataType.FLOAT, -1, 6, 16));
    }
    Onnx.ModelProto model = Onnx.ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).setGraph(graph).build();
    Path file = dir.resolve(pooled ? "pooled.onnx" : "tiny.onnx");
    Files.write(file, model.toByteArray());
    return file;
  }

  private static Onnx.NodeProto node(String op, String a, String b, String output) {
    return Onnx.NodeProto.newBuilder().setOpType(op).addInput(a).addInput(b).addOutput(output).build();
  }

  private static Onnx.TensorProto weights(String name, Random random, int rows, int cols) {
    ByteBuffer data = ByteBuffer.allocate(rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows * cols; i++) {
      data.putFloat((float) random.nextGaussian());
    }
    return Onnx.TensorProto.newBuilder().setName(name).setDataType(dev.bitsweep.onnx.DataType.FLOAT)
        .addDims(rows).addDims(cols).setRawData(ByteString.copyFrom(data.array())).build();
  }

  private static Onnx.ValueInfoProto value(String name, int type, long... dims) {
    Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
    for (long d : dims) {
      shape.addDim(d < 0 ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
          : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
  }
}
