package dev.bitsweep.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bitsweep.layer.Layer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which layers share a Hessian, and how the Hessians are split into capture groups under a memory budget. */
class CaptureGroupsTest {
  private static Layer matMul(String name, int in, int out) {
    return new Layer(name, name, "MatMul", new long[] {in, out}, 1, 1, "", Layer.Storage.INITIALIZER);
  }

  private static Layer gemm(String name, int in, int out) {
    return new Layer(name, name, "Gemm", new long[] {out, in}, 1, 0, "", Layer.Storage.INITIALIZER);
  }

  @Test
  void layersReadingTheSameTensorTheSameWayShareOneHessian() {
    List<Layer> layers = List.of(matMul("q", 4, 4), matMul("k", 4, 2), matMul("v", 4, 2), matMul("o", 4, 4),
        matMul("then.q", 4, 4), gemm("g", 4, 3), gemm("gt", 4, 3), matMul("emb", 4, 4));
    Map<String, List<CaptureSite>> sites = new LinkedHashMap<>();
    sites.put("q", List.of(CaptureSite.matMul("h", "")));
    sites.put("k", List.of(CaptureSite.matMul("h", "")));
    sites.put("v", List.of(CaptureSite.matMul("h", "")));
    sites.put("o", List.of(CaptureSite.matMul("attn", "")));
    sites.put("then.q", List.of(CaptureSite.matMul("h", "1:then_branch")));
    sites.put("g", List.of(CaptureSite.gemm("h", false, "")));
    sites.put("gt", List.of(CaptureSite.gemm("h", true, "")));
    CapturePlan plan = new CapturePlan(sites, Map.of("emb", "a Gather table"));
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("q", "q");
    expected.put("k", "q");
    expected.put("v", "q");
    expected.put("o", "o");
    expected.put("then.q", "then.q"); // the same name inside a branch is seen only when the branch runs
    expected.put("g", "g"); // another op kind is another site, even where the rows would be the same
    expected.put("gt", "gt");
    assertEquals(expected, plan.hessianOwners(layers));
    assertEquals(Map.of("k", "k", "v", "k"), plan.hessianOwners(layers.subList(1, 3)),
        "the first layer given names the Hessian");
  }

  @Test
  void groupsAreFilledInModelOrderUpToTheBudget() {
    List<Layer> hessians = List.of(matMul("a", 64, 8), matMul("b", 64, 8), matMul("c", 128, 8), matMul("d", 32, 8));
    Map<String, List<CaptureSite>> sites = new LinkedHashMap<>();
    for (Layer layer : hessians) {
      sites.put(layer.name(), List.of(CaptureSite.matMul(layer.name() + ".in", "")));
    }
    CapturePlan plan = new CapturePlan(sites, Map.of());
    // a group: 8 * dim² per Hessian, plus one rank update of its widest Hessian: 2 * 8 * 2048 * dim + 8 * dim² + 8 * dim
    long ab = 2 * 8L * 64 * 64 + 2 * 8L * 2048 * 64 + 8L * 64 * 64 + 8L * 64;
    assertEquals(2_195_968L, ab);
    assertEquals(ab, CaptureGroups.bytes(hessians.subList(0, 2), plan));
    assertEquals(List.of(List.of("a", "b"), List.of("c"), List.of("d")), names(CaptureGroups.partition(hessians, plan, ab)));
    assertEquals(List.of(List.of("a", "b", "c", "d")), names(CaptureGroups.partition(hessians, plan, Long.MAX_VALUE)));
    assertEquals(List.of(List.of("a"), List.of("b"), List.of("c"), List.of("d")),
        names(CaptureGroups.partition(hessians, plan, 1)), "a Hessian above the budget gets a group of its own");
    assertEquals(1L << 29, CaptureGroups.budgetFromHeap(2L << 30, 2), "half of a 2 GiB heap over 2 tasks");
  }

  private static List<List<String>> names(List<List<Layer>> groups) {
    return groups.stream().map(g -> g.stream().map(Layer::name).toList()).toList();
  }
}
