package dev.bitsweep.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The per-layer heatmap: layers as rows in graph order ({@code layer_index}; by name for results written before it),
 * configs as columns, one cell per layers row with status ok, valued by weight SNR and, where the sweep measured it,
 * by output error; and the worst cells of each measure (lowest SNR, highest output error).
 */
final class Heatmap {
  private Heatmap() {}

  private record Cell(int row, int column, double value) {}

  static Map<String, Object> of(List<SweepResults> sweeps, int worstCount) {
    return of(sweeps, worstCount, sweeps.size() > 1);
  }

  /** @param compare label columns with their sweep id too (config ids may repeat across the sweeps) */
  static Map<String, Object> of(List<SweepResults> sweeps, int worstCount, boolean compare) {
    Map<String, Integer> order = new TreeMap<>();
    Map<String, Map<String, Object>> describedLayers = new TreeMap<>();
    boolean graphOrder = true;
    for (SweepResults sweep : sweeps) {
      for (Map<String, Object> row : sweep.layers()) {
        String layer = (String) row.get("layer");
        Double index = SweepResults.number(row, "layer_index");
        graphOrder &= index != null;
        order.merge(layer, index == null ? Integer.MAX_VALUE : index.intValue(), Math::min);
        describedLayers.computeIfAbsent(layer, name -> {
          Map<String, Object> described = new LinkedHashMap<>();
          described.put("name", name);
          described.put("opType", row.get("op_type"));
          described.put("shape", row.get("shape"));
          described.put("params", row.get("params"));
          return described;
        });
      }
    }
    List<String> layers = new ArrayList<>(order.keySet());
    if (graphOrder) {
      layers.sort(Comparator.comparing(order::get));
    }
    Map<String, Integer> rowOf = new LinkedHashMap<>();
    layers.forEach(l -> rowOf.put(l, rowOf.size()));

    List<Map<String, Object>> columns = new ArrayList<>();
    List<Cell> snr = new ArrayList<>();
    List<Cell> outputError = new ArrayList<>();
    for (SweepResults sweep : sweeps) {
      Map<String, List<Map<String, Object>>> byConfig = new TreeMap<>();
      sweep.layers().forEach(r -> byConfig.computeIfAbsent((String) r.get("config_id"), c -> new ArrayList<>()).add(r));
      for (var config : byConfig.entrySet()) {
        int column = columns.size();
        Map<String, Object> described = new LinkedHashMap<>();
        described.put("sweepId", sweep.sweepId());
        described.put("configId", config.getKey());
        described.put("label", compare ? sweep.sweepId() + " / " + config.getKey() : config.getKey());
        columns.add(described);
        for (Map<String, Object> row : config.getValue()) {
          if (!"ok".equals(row.get("status"))) {
            continue;
          }
          int r = rowOf.get((String) row.get("layer"));
          Double weightSnr = SweepResults.number(row, "weight_snr_db");
          if (weightSnr != null && !Double.isNaN(weightSnr)) {
            snr.add(new Cell(r, column, weightSnr));
          }
          Double error = SweepResults.number(row, "output_error");
          if (error != null && Double.isFinite(error)) {
            outputError.add(new Cell(r, column, error));
          }
        }
      }
    }
    Map<String, Object> heatmap = new LinkedHashMap<>();
    heatmap.put("layers", layers.stream().map(describedLayers::get).toList());
    heatmap.put("graphOrder", graphOrder);
    heatmap.put("columns", columns);
    List<Map<String, Object>> views = new ArrayList<>();
    views.add(view("weight_snr_db", "weight SNR (dB), lower is worse", false, snr, worstCount, layers, columns));
    if (!outputError.isEmpty()) {
      views.add(view("output_error", "output error tr(ΔW H ΔWᵀ), higher is worse (colour on a log scale)", true,
          outputError, worstCount, layers, columns));
    }
    heatmap.put("views", views);
    return heatmap;
  }

  private static Map<String, Object> view(String column, String label, boolean higherIsWorse, List<Cell> cells,
      int worstCount, List<String> layers, List<Map<String, Object>> columns) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("column", column);
    view.put("label", label);
    view.put("higherIsWorse", higherIsWorse);
    view.put("logScale", higherIsWorse);
    // Infinite SNR (a layer reproduced exactly) stays in the tooltip as text and is coloured as the best cell.
    view.put("cells", cells.stream().map(c -> List.of(c.column(), c.row(), HtmlReport.finite(c.value()))).toList());
    Comparator<Cell> worstFirst = Comparator.comparingDouble(Cell::value);
    if (higherIsWorse) {
      worstFirst = worstFirst.reversed();
    }
    List<Map<String, Object>> worst = new ArrayList<>();
    for (Cell cell : cells.stream().sorted(worstFirst).limit(worstCount).toList()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("layer", layers.get(cell.row()));
      entry.put("config", columns.get(cell.column()).get("label"));
      entry.put("value", HtmlReport.finite(cell.value()));
      worst.add(entry);
    }
    view.put("worst", worst);
    return view;
  }
}
