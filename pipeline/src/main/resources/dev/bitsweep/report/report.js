'use strict';
(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const metric = data.metric;
  const METHOD_COLOURS = ['#2f6fde', '#e8590c', '#2b9348', '#9c36b5', '#c92a2a', '#0b7285', '#5c940d', '#862e9c'];
  const SWEEP_SYMBOLS = ['circle', 'diamond', 'triangle', 'rect', 'pin', 'roundRect'];
  const sweepIds = [...new Set([...data.sweeps.map(s => s.sweepId), ...data.points.map(p => p.sweepId)])];
  const methods = [...new Set(data.points.map(p => p.method))].sort();
  const colourOf = m => METHOD_COLOURS[methods.indexOf(m) % METHOD_COLOURS.length];
  const symbolOf = id => SWEEP_SYMBOLS[sweepIds.indexOf(id) % SWEEP_SYMBOLS.length];

  function fmt(value, digits) {
    if (value === null || value === undefined) return '–';
    if (typeof value === 'string') return value; // NaN / Infinity arrive as text
    if (Number.isInteger(value) && digits === undefined) return value.toLocaleString('en-US');
    return Number(value).toFixed(digits === undefined ? 4 : digits);
  }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  const esc = s => String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
  const kib = bytes => (bytes / 1024).toFixed(bytes < 10240 ? 1 : 0) + ' KiB';

  document.getElementById('title').textContent = data.title;
  document.title = data.title;
  const first = data.sweeps[0].inputs;
  const plansShown = data.points.filter(p => p.kind === 'plan').length;
  document.getElementById('subtitle').textContent = first.model + ' · task ' + first.task + ' · '
      + (data.search ? plansShown + ' measured plans and ' + (data.points.length - plansShown) + ' uniform configs'
        : data.configs.length + ' configs' + (data.compare ? ' over ' + data.sweeps.length + ' sweeps' : ''));
  document.getElementById('metric-name').textContent = metric.column;
  document.getElementById('metric-why').textContent = 'Plotted: ' + metric.why + '. One point per '
      + (data.search ? 'measured plan or uniform config' : 'config with status ok') + ';'
      + ' the line joins the non-dominated configs (no other is smaller and at least as good, or as small and better)'
      + (metric.baseline === null ? '.' : '; the dashed line is the original model (' + fmt(metric.baseline) + ').');

  // ---- Pareto plot -------------------------------------------------------------------------------------------
  const VIEWS = {
    bits: { key: 'bitsPerWeight', flag: 'frontierBits', name: data.bitsLabel || 'bits per weight (compressed layers)',
      label: v => v.toFixed(1) },
    bytes: { key: 'compressedBytes', flag: 'frontierBytes', name: 'package size', label: kib }
  };
  const pareto = echarts.init(document.getElementById('pareto'), null, { renderer: 'canvas' });
  let view = 'bits';

  function paretoOption(viewName) {
    const v = VIEWS[viewName];
    const series = [];
    for (const sweepId of sweepIds) {
      for (const method of methods) {
        const own = data.points.filter(p => p.sweepId === sweepId && p.method === method);
        if (own.length === 0) continue;
        series.push({
          id: 'points:' + sweepId + ':' + method,
          name: data.compare ? method + ' · ' + sweepId : method,
          // plans (from bitsweep search) are marked: larger diamonds, above the uniform configs
          type: 'scatter', symbol: method === 'plan' ? 'diamond' : symbolOf(sweepId),
          symbolSize: method === 'plan' ? 16 : 11, z: method === 'plan' ? 3 : 2,
          itemStyle: { color: colourOf(method), opacity: 1, borderColor: '#fff', borderWidth: 1 },
          emphasis: { scale: 1.6 },
          data: own.map(p => ({ name: p.configId, value: [p[v.key], p.metric], point: p }))
        });
      }
      const frontier = data.points.filter(p => p.sweepId === sweepId && p[v.flag]).sort((a, b) => a[v.key] - b[v.key]);
      series.push({
        id: 'frontier:' + sweepId,
        name: 'frontier' + (data.compare ? ' · ' + sweepId : ''),
        type: 'line', step: 'end', symbol: 'none', silent: true, z: 1,
        lineStyle: { color: data.compare ? '#555' : '#1d2330', width: 1.5, type: sweepIds.indexOf(sweepId) ? 'dotted' : 'solid' },
        itemStyle: { color: '#1d2330' },
        data: frontier.map(p => ({ name: p.configId, value: [p[v.key], p.metric], point: p }))
      });
    }
    if (metric.baseline !== null && data.points.length) {
      // A two-point line across the plotted range (a markLine on an empty series is not drawn).
      const xs = data.points.map(p => p[v.key]);
      const lo = Math.min(...xs), hi = Math.max(...xs), pad = (hi - lo) * 0.04 || 1;
      series.push({
        id: 'baseline', name: 'original model', type: 'line', symbol: 'none', silent: true, z: 0,
        lineStyle: { type: 'dashed', color: '#868e96', width: 1.5 }, itemStyle: { color: '#868e96' },
        endLabel: { show: true, formatter: 'original ' + fmt(metric.baseline), color: '#5b6475', offset: [-60, -10] },
        data: [[lo - pad, metric.baseline], [hi + pad, metric.baseline]]
      });
    }
    return {
      animation: false,
      grid: { left: 70, right: 30, top: 50, bottom: 55 },
      legend: { top: 8, type: 'scroll' },
      tooltip: { trigger: 'item', formatter: item => item.data && item.data.point ? pointHtml(item.data.point) : '' },
      xAxis: { type: 'value', name: v.name, nameLocation: 'middle', nameGap: 32, scale: true,
        axisLabel: { formatter: v.label }, splitLine: { lineStyle: { color: '#eef0f3' } } },
      yAxis: { type: 'value', name: metric.column + (metric.higherIsBetter ? ' (higher is better)' : ' (lower is better)'),
        nameLocation: 'middle', nameGap: 52, scale: true, inverse: !metric.higherIsBetter,
        splitLine: { lineStyle: { color: '#eef0f3' } } },
      series: series
    };
  }

  function pointHtml(p) {
    return '<b>' + esc(p.configId) + '</b>' + (data.compare ? '<br>sweep ' + esc(p.sweepId) : '')
        + (p.kind === 'plan' ? '<br><i>plan</i> found by bitsweep search' : '<br>method ' + esc(p.method))
        + (p.meetsBudget === undefined ? '' : '<br>' + (p.meetsBudget ? 'meets' : 'misses') + ' the budget')
        + '<br>' + esc(metric.column) + ' ' + fmt(p.metric)
        + '<br>bits/weight ' + fmt(p.bitsPerWeight, 2) + ' · ' + kib(p.compressedBytes)
        + (p.sizeRatio === null ? '' : ' (' + (100 * p.sizeRatio).toFixed(1) + ' %)')
        + '<br>agreement ' + fmt(p.agreement) + ' · output SNR ' + fmt(p.outputSnrDb, 2) + ' dB'
        + (p[VIEWS[view].flag] ? '<br><i>on the frontier</i>' : '');
  }

  /** The DOM mirror of what the chart holds: read back from the chart's own option, not from the embedded data. */
  function mirrorPareto() {
    const list = document.getElementById('pareto-points');
    list.replaceChildren();
    let points = 0;
    let frontier = 0;
    for (const s of pareto.getOption().series) {
      const kind = String(s.id).split(':')[0];
      if (kind !== 'points' && kind !== 'frontier') continue;
      for (const d of s.data) {
        const li = el('li', {
          'data-config-id': d.point.configId, 'data-sweep-id': d.point.sweepId, 'data-series': kind,
          'data-kind': d.point.kind || 'config',
          'data-x': d.value[0], 'data-y': d.value[1]
        }, (kind === 'frontier' ? 'frontier ' : '') + (d.point.kind === 'plan' ? 'plan ' : '') + d.point.configId + (data.compare ? ' (' + d.point.sweepId + ')' : '')
            + ': ' + VIEWS[view].label(d.value[0]) + ', ' + metric.column + ' ' + fmt(d.value[1]));
        list.appendChild(li);
        if (kind === 'points') points++; else frontier++;
      }
    }
    document.getElementById('point-count').textContent = points;
    document.getElementById('frontier-count').textContent = frontier;
  }

  function showView(name) {
    view = name;
    pareto.setOption(paretoOption(name), { notMerge: true });
    document.getElementById('view-bits').classList.toggle('active', name === 'bits');
    document.getElementById('view-bytes').classList.toggle('active', name === 'bytes');
    document.body.dataset.paretoView = name;
    mirrorPareto();
  }
  document.getElementById('view-bits').addEventListener('click', () => showView('bits'));
  document.getElementById('view-bytes').addEventListener('click', () => showView('bytes'));
  pareto.on('click', item => {
    if (!item.data || !item.data.point) return;
    const p = item.data.point;
    const box = document.getElementById('selected');
    box.replaceChildren(el('b', {}, p.configId), document.createTextNode(' · ' + metric.column + ' ' + fmt(p.metric)
        + ' · ' + fmt(p.bitsPerWeight, 2) + ' bits/weight · ' + p.compressedBytes.toLocaleString('en-US') + ' bytes'
        + ' · agreement ' + fmt(p.agreement) + ' · output SNR ' + fmt(p.outputSnrDb, 2) + ' dB'));
    document.querySelectorAll('#configs tr.picked').forEach(r => r.classList.remove('picked'));
    const row = document.querySelector('#configs tr[data-row-key="' + CSS.escape(p.rowKey || (p.sweepId + '/' + p.configId)) + '"]');
    if (row) { row.classList.add('picked'); }
  });

  // ---- Heatmap ------------------------------------------------------------------------------------------------
  const hm = data.heatmap;
  const heatmapBox = document.getElementById('heatmap');
  // Rows of at least 28 px, under the config labels (written vertically: about 6.5 px per character).
  const longestLabel = Math.max(0, ...hm.columns.map(c => c.label.length));
  heatmapBox.style.height = Math.round(Math.max(84, 28 * hm.layers.length) + 6.5 * longestLabel + 50) + 'px';
  const heatmap = echarts.init(heatmapBox, null, { renderer: 'canvas' });
  document.getElementById('heatmap-order').textContent = (hm.graphOrder
      ? 'Layers in graph order (top: first), configs as columns. '
      : 'Layers by name: these results predate the layers table\'s layer_index column, so graph order is unknown. ')
      + 'Red cells are the worst; hover a cell for its numbers.';

  function heatmapOption(v) {
    const values = v.cells.map(c => c[2]).filter(x => typeof x === 'number');
    const colour = x => (typeof x === 'number' ? (v.logScale ? Math.log10(Math.max(x, 1e-30)) : x) : null);
    const shown = values.map(colour);
    const min = shown.length ? Math.min(...shown) : 0;
    const max = shown.length ? Math.max(...shown) : 1;
    const good = '#1a9850', mid = '#fee08b', bad = '#d73027';
    const cells = v.cells.map(c => ({
      value: [c[0], c[1], typeof c[2] === 'number' ? colour(c[2]) : (v.higherIsWorse ? min : max)], raw: c[2]
    }));
    const labels = hm.layers.length * hm.columns.length <= 400;
    return {
      animation: false,
      grid: { left: 10, right: 90, top: 20, bottom: 10, containLabel: true },
      tooltip: { formatter: item => {
        const layer = hm.layers[item.data.value[1]];
        return '<b>' + esc(layer.name) + '</b> ' + esc(layer.opType) + ' ' + esc(layer.shape) + '<br>'
            + esc(hm.columns[item.data.value[0]].label) + '<br>' + v.column + ' ' + (typeof item.data.raw === 'number'
              ? (v.logScale ? item.data.raw.toExponential(4) : item.data.raw.toFixed(2)) : item.data.raw);
      } },
      xAxis: { type: 'category', data: hm.columns.map(c => c.label), position: 'top',
        axisLabel: { rotate: 90, fontSize: 11, interval: 0 }, splitArea: { show: true } },
      yAxis: { type: 'category', data: hm.layers.map(l => l.name), inverse: true, axisLabel: { fontSize: 11 } },
      visualMap: { type: 'continuous', min: min, max: max === min ? min + 1 : max, calculable: true, orient: 'vertical',
        right: 0, top: 'middle', text: [v.logScale ? 'log10 high' : 'high', v.logScale ? 'log10 low' : 'low'],
        inRange: { color: v.higherIsWorse ? [good, mid, bad] : [bad, mid, good] } },
      series: [{ id: 'cells:' + v.column, type: 'heatmap', data: cells,
        label: { show: labels, fontSize: 10, formatter: item => typeof item.data.raw === 'number'
          ? (v.logScale ? item.data.raw.toExponential(1) : item.data.raw.toFixed(1)) : String(item.data.raw) },
        itemStyle: { borderColor: '#fff', borderWidth: 1 } }]
    };
  }

  function showHeatmap(index) {
    const v = hm.views[index];
    heatmap.setOption(heatmapOption(v), { notMerge: true });
    document.querySelectorAll('#heatmap-views button').forEach((b, i) => b.classList.toggle('active', i === index));
    document.getElementById('worst-title').textContent = 'Worst ' + v.worst.length + ' cells by ' + v.label;
    const body = document.querySelector('#worst tbody');
    body.replaceChildren();
    v.worst.forEach((w, i) => {
      const tr = el('tr', { 'data-layer': w.layer, 'data-config': w.config });
      tr.append(el('td', { class: 'num' }, i + 1), el('td', {}, w.layer), el('td', {}, w.config),
          el('td', { class: 'num' }, typeof w.value === 'number' ? (v.logScale ? w.value.toExponential(3) : w.value.toFixed(2)) : w.value));
      body.appendChild(tr);
    });
  }
  hm.views.forEach((v, i) => {
    const b = el('button', { type: 'button' }, v.column);
    b.addEventListener('click', () => showHeatmap(i));
    document.getElementById('heatmap-views').appendChild(b);
  });

  // ---- Tables -------------------------------------------------------------------------------------------------
  const COLUMNS = [
    ['sweep', r => r.sweepId, data.compare || data.search], ['config_id', r => r.configId, true], ['method', r => r.method, true],
    ['status', r => r.status, true], ['bits/weight', r => fmt(r.bitsPerWeight, 2), true, 'num'],
    ['package bytes', r => fmt(r.compressedBytes), true, 'num'],
    ['size', r => (r.sizeRatio === null ? '–' : (100 * r.sizeRatio).toFixed(1) + ' %'), true, 'num'],
    [metric.column, r => fmt(r.metric), true, 'num'],
    ['agreement', r => fmt(r.agreement), metric.column !== 'agreement', 'num'],
    ['output SNR dB', r => fmt(r.outputSnrDb, 2), metric.column !== 'output_snr_db', 'num'],
    ['max |diff|', r => fmt(r.maxAbsDiff, 5), true, 'num'], ['layers', r => fmt(r.layersCompressed), true, 'num'],
    ['compress s', r => fmt(r.compressSeconds, 2), true, 'num'], ['package s', r => fmt(r.packageSeconds, 2), true, 'num'],
    ['eval s', r => fmt(r.evalSeconds, 2), true, 'num'], ['files', null, true], ['error', r => r.error || '', true]
  ].filter(c => c[2]);
  const head = el('tr');
  COLUMNS.forEach(c => head.appendChild(el('th', {}, c[0])));
  document.querySelector('#configs thead').appendChild(head);
  const configBody = document.querySelector('#configs tbody');
  for (const r of data.configs) {
    const tr = el('tr', { 'data-row-key': r.sweepId + '/' + r.configId, class: r.status === 'ok' ? '' : 'failed' });
    for (const c of COLUMNS) {
      const td = el('td', c[3] ? { class: c[3] } : {});
      if (c[1]) {
        td.textContent = c[1](r);
      } else if (r.packageLink) {
        td.append(el('a', { href: r.packageLink }, 'model.onnx'), document.createTextNode(' · '),
            el('a', { href: r.manifestLink }, 'manifest.json'));
      } else {
        td.textContent = r.linkNote || '';
      }
      tr.appendChild(td);
    }
    configBody.appendChild(tr);
  }

  const inputs = document.getElementById('inputs');
  for (const s of data.sweeps) {
    if (data.compare || data.search) {
      inputs.appendChild(el('h3', {}, (data.search && s === data.sweeps[0] ? 'Search ' : 'Sweep ') + s.sweepId));
    }
    const dl = el('dl');
    Object.entries(s.inputs).forEach(([k, v]) => dl.append(el('dt', {}, k), el('dd', {}, v === null ? '–' : v)));
    inputs.appendChild(dl);
    if (!s.stageSeconds) continue; // the search's own entry: its sweeps below have times and skipped tensors
    const times = el('p', { class: 'note' }, 'Task seconds summed over configs (parallel workers add up): compress '
        + s.stageSeconds.compress_seconds.toFixed(2) + ' s, package ' + s.stageSeconds.package_seconds.toFixed(2)
        + ' s, eval ' + s.stageSeconds.eval_seconds.toFixed(2) + ' s; per config in the table above.');
    inputs.appendChild(times);
    inputs.appendChild(el('h3', {}, 'Skipped tensors' + (s.skipped ? ' (' + s.skipped.length + ')' : '')));
    inputs.appendChild(el('p', { class: 'note' }, s.skippedNote));
    if (s.skipped && s.skipped.length) {
      const table = el('table', { class: 'skipped' });
      const h = el('tr');
      ['tensor', 'shape', 'reason'].forEach(t => h.appendChild(el('th', {}, t)));
      table.appendChild(el('thead')).appendChild(h);
      const tb = table.appendChild(el('tbody'));
      s.skipped.forEach(t => {
        const tr = el('tr');
        tr.append(el('td', {}, t.tensor), el('td', {}, t.shape), el('td', {}, t.reason));
        tb.appendChild(tr);
      });
      inputs.appendChild(table);
    }
  }

  showView('bits');
  if (hm.views.length) {
    showHeatmap(0);
  } else {
    heatmapBox.style.height = '40px';
    heatmapBox.textContent = 'No layer of this sweep has a weight SNR.';
  }
  window.addEventListener('resize', () => { pareto.resize(); heatmap.resize(); });
  document.body.dataset.reportReady = 'true';
})();
