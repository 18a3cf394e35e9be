package dev.bitsweep.pipeline;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.ResultTables;
import dev.bitsweep.cluster.Launch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publishing and resuming on the digits model: per-sweep packages, byte-equal manifests, a publish that fails
 * leaves nothing, staging areas of killed runs are removed, and a sweep killed mid-compression or mid-evaluation
 * (a child JVM, SIGKILL once the resume cache holds entries) resumes to the same results as an uninterrupted run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResumeAndPublishingTest {
  private static final String CONFIGS = "configs:\n"
      + "  - {id: km8, method: palettize, mode: kmeans, nbits: 8, granularity: per_tensor}\n"
      + "  - {id: km6, method: palettize, mode: kmeans, nbits: 6, granularity: per_tensor}\n"
      + "  - {id: km4, method: palettize, mode: kmeans, nbits: 4, granularity: per_tensor}\n"
      + "  - {id: km3, method: palettize, mode: kmeans, nbits: 3, granularity: per_tensor}\n"
      + "  - {id: int8, method: linear_quantize, mode: linear_symmetric, dtype: int8, granularity: per_channel}\n"
      + "  - {id: s50, method: prune, mode: magnitude, target_sparsity: 0.5}\n";
  private static final List<String> IDS = List.of("int8", "km3", "km4", "km6", "km8", "s50");

  @TempDir static Path work;
  private Path spec;
  private SweepOutcome reference;

  @BeforeAll
  void runTheReferenceSweep() throws IOException {
    spec = writeSpec("resume", "");
    reference = new SweepRunner(System.out).run(spec, Launch.embedded().withRunner("direct")
        .withOut(work.resolve("reference")));
  }

  private Path writeSpec(String name, String extra) throws IOException {
    Path file = work.resolve(name + ".yaml");
    Files.writeString(file, "name: " + name + "\nmodel: " + Fixtures.digits().resolve("model.onnx") + "\ntask: classification\n"
        + "eval_data: " + Fixtures.digits().resolve("eval") + "\nbatch_size: 60\n" + extra + CONFIGS);
    return file;
  }

  private record Run(SweepOutcome outcome, String console) {}

  private static Run run(Path spec, Launch launch, boolean fresh) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream console = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    SweepOutcome outcome = new SweepRunner(console).fresh(fresh).run(spec, launch);
    return new Run(outcome, bytes.toString(StandardCharsets.UTF_8));
  }

  private static Map<String, byte[]> files(Path dir) throws IOException {
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path f : walk.filter(Files::isRegularFile).toList()) {
        files.put(dir.relativize(f).toString(), Files.readAllBytes(f));
      }
    }
    return files;
  }

  private static List<String> entries(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void packagesBelongToTheirSweepAndManifestsAreTheSameBytesOnEveryRun() throws Exception {
    Path out = work.resolve("two-sweeps");
    Launch launch = Launch.embedded().withRunner("direct").withOut(out);
    SweepOutcome first = run(spec, launch, false).outcome();
    Map<String, byte[]> firstPackages = files(out.resolve("packages").resolve(first.sweepId()));
    assertEquals(IDS.size() * 2, firstPackages.size(), firstPackages.keySet().toString());
    // another sweep (fewer samples, so another sweep id) with the same config ids, into the same out
    SweepOutcome other = run(writeSpec("resume-other", "eval_samples: 120\n"), launch, false).outcome();
    assertFalse(first.sweepId().equals(other.sweepId()));
    assertEquals(List.of(first.sweepId(), other.sweepId()).stream().sorted().toList(), entries(out.resolve("packages")));
    Map<String, byte[]> afterOther = files(out.resolve("packages").resolve(first.sweepId()));
    assertEquals(firstPackages.keySet(), afterOther.keySet());
    firstPackages.forEach((name, bytes) -> assertArrayEquals(bytes, afterOther.get(name), name + " untouched"));
    // package_path points at the bytes that were evaluated: this sweep's package, of the size the row says
    for (Map<String, Object> row : query("SELECT sweep_id, config_id, package_path, compressed_bytes FROM "
        + table(out, "runs"))) {
      assertEquals("packages/" + row.get("sweep_id") + "/" + row.get("config_id") + "/model.onnx", row.get("package_path"));
      assertEquals(((Number) row.get("compressed_bytes")).longValue(),
          Files.size(out.resolve((String) row.get("package_path"))));
    }
    // the same sweep again, recomputed: every package file, manifest.json included, is the same bytes
    Run again = run(spec, launch, true);
    Map<String, byte[]> rerun = files(out.resolve("packages").resolve(first.sweepId()));
    assertEquals(firstPackages.keySet(), rerun.keySet());
    firstPackages.forEach((name, bytes) -> assertArrayEquals(bytes, rerun.get(name), name + " is byte-equal"));
    assertFalse(again.console().contains("reused"), again.console());
  }

  @Test
  void aReportThatCannotBePublishedPublishesNothingAndSaysSo() throws IOException {
    Path out = work.resolve("no-report");
    Files.createDirectories(out);
    Files.writeString(out.resolve("reports"), "a file where reports/ goes");
    RuntimeException e = assertThrows(RuntimeException.class,
        () -> run(spec, Launch.embedded().withRunner("direct").withOut(out), false));
    assertEquals("publishing failed (" + out.resolve("reports") + "); nothing was published: " + out
        + " holds what it held before for sweep " + reference.sweepId(), e.getMessage());
    assertEquals(List.of(".cache", ".staging", "reports"), entries(out));
    assertEquals(List.of(), entries(out.resolve(".staging")), "no staging area is left");
  }

  @Test
  void stagingAreasOfDeadProcessesAreRemovedAndALiveOnesKept() throws Exception {
    Path out = work.resolve("stale");
    Process exited = new ProcessBuilder("true").start();
    exited.waitFor();
    Path dead = Files.createDirectories(out.resolve(".staging/resume-dead/packages"));
    Files.write(dead.resolve("junk"), new byte[1_000_000]);
    String host = StagingAreas.ownerLine().split(" ")[0];
    Files.writeString(dead.getParent().resolve(StagingAreas.OWNER_FILE), host + " " + exited.pid() + " -\n");
    Path live = Files.createDirectories(out.resolve(".staging/resume-live"));
    Files.writeString(live.resolve(StagingAreas.OWNER_FILE), StagingAreas.ownerLine());
    Run result = run(spec, Launch.embedded().withRunner("direct").withOut(out), false);
    assertTrue(result.console().contains("  removed 1 staging area left by interrupted runs (1.0 MB)"),
        result.console());
    assertEquals(List.of("resume-live"), entries(out.resolve(".staging")));
  }

  // --- killed and resumed: a child JVM runs the CLI; it is killed once the resume cache holds `kind` entries

  private static Process startChild(Path spec, Path out, Path log) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = manifestJar().toString();
    List<String> command = new ArrayList<>(List.of(java, "-Xmx2g", "-cp", classpath, "dev.bitsweep.cli.Main",
        "sweep", spec.toString(), "--out", out.toString(), "--parallelism", "1", "--threads-per-task", "1"));
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /**
   * A jar whose manifest holds the test classpath: ONNX Runtime 1.29's native initialisation crashes the JVM
   * (SIGSEGV) when {@code java.class.path} is long (about 19 kB here), so the child gets the short path of this jar,
   * as surefire's own forked JVM does.
   */
  private static synchronized Path manifestJar() throws IOException {
    Path jar = work.resolve("child-classpath.jar");
    if (Files.exists(jar)) {
      return jar;
    }
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    StringBuilder entries = new StringBuilder();
    for (String entry : classpath.split(java.io.File.pathSeparator)) {
      if (!entry.isEmpty()) {
        entries.append(entries.length() == 0 ? "" : " ").append(Path.of(entry).toUri().toURL().toExternalForm());
      }
    }
    java.util.jar.Manifest manifest = new java.util.jar.Manifest();
    manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(java.util.jar.Attributes.Name.CLASS_PATH, entries.toString());
    try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar), manifest)) {
      out.flush();
    }
    return jar;
  }

  private static long count(Path out, String kind) throws IOException {
    Path resume = out.resolve(".cache/resume");
    long n = 0;
    for (String sweep : entries(resume)) {
      n += entries(resume.resolve(sweep).resolve(kind)).stream().filter(f -> !f.contains(".tmp-")).count();
    }
    return n;
  }

  private static void killWhen(Process child, Path out, String kind, long atLeast, Path log) throws Exception {
    while (count(out, kind) < atLeast) {
      if (!child.isAlive()) {
        throw new AssertionError("the child ended (exit " + child.exitValue() + ") before it had " + atLeast + " "
            + kind + " entries: " + Files.readString(log) + " classpath " + System.getProperty("java.class.path"));
      }
      Thread.sleep(50);
    }
    child.destroyForcibly(); // SIGKILL: no shutdown hook runs
    assertTrue(child.waitFor(60, TimeUnit.SECONDS));
  }

  private static long[] reused(String console) {
    Matcher m = Pattern.compile("reused (\\d+) of 12 compressed layers, (\\d+) of 54 evaluation batches").matcher(console);
    assertTrue(m.find(), console);
    return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
  }

  @Test
  void aSweepKilledMidCompressionResumesWithItsFinishedLayers() throws Exception {
    Path out = work.resolve("killed-compressing");
    Path log = work.resolve("killed-compressing.log");
    killWhen(startChild(spec, out, log), out, "compressed", 1, log);
    assertEquals(1, entries(out.resolve(".staging")).size(), "SIGKILL leaves the staging area");
    assertFalse(Files.exists(out.resolve("runs")), "a killed sweep publishes nothing");

    Run resumed = run(spec, Launch.embedded().withOut(out), false);
    long[] reused = reused(resumed.console());
    assertTrue(reused[0] > 0, resumed.console());
    assertTrue(resumed.console().contains("  removed 1 staging area left by interrupted runs"), resumed.console());
    assertResumedEqualsReference(out);
  }

  @Test
  void aSweepKilledMidEvaluationResumesWithItsLayersAndBatches() throws Exception {
    Path out = work.resolve("killed-evaluating");
    Path log = work.resolve("killed-evaluating.log");
    killWhen(startChild(spec, out, log), out, "evaluated", 1, log);
    Run resumed = run(spec, Launch.embedded().withOut(out), false);
    long[] reused = reused(resumed.console());
    assertTrue(reused[0] > 0 && reused[1] > 0, resumed.console());
    assertResumedEqualsReference(out);
  }

  @Test
  void aSigtermRemovesTheStagingAreaBeforeTheJvmExits() throws Exception {
    Path out = work.resolve("terminated");
    Path log = work.resolve("terminated.log");
    Process child = startChild(spec, out, log);
    while (count(out, "compressed") < 1) {
      assertTrue(child.isAlive(), () -> "the child ended early: " + read(log));
      Thread.sleep(50);
    }
    child.destroy(); // SIGTERM
    assertTrue(child.waitFor(60, TimeUnit.SECONDS));
    assertEquals(List.of(), entries(out.resolve(".staging")), read(log));
    assertTrue(count(out, "compressed") > 0, "the resume cache is kept for the rerun");
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return e.toString();
    }
  }

  private void assertResumedEqualsReference(Path out) throws Exception {
    List<Map<String, Object>> runs = query("SELECT config_id FROM " + table(out, "runs") + " ORDER BY config_id");
    assertEquals(IDS, runs.stream().map(r -> r.get("config_id")).toList(), "exactly one row per config");
    ResultTables.assertSameResults(reference.out(), out);
    assertEquals(List.of(), entries(out.resolve(".cache/resume")), "a published sweep drops its resume entries");
    assertEquals(List.of(), entries(out.resolve(".staging")));
  }
}
