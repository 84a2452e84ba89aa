"""The HTML report's inline style and chart script (kept apart from the page builder so each reads on its own).

The script draws two kinds of SVG chart from the JSON embedded in the page: the scores (one row per metric,
each model's value with its 95% interval as a whisker) and, for models that are tunedeck jobs, the training
and validation loss by step. It uses no library and loads nothing; when done it marks each chart with
`data-rendered="true"` and the number of marks drawn.
"""

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1180px;
       color: #1d232b; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.meta, .note { color: #5b6573; } .opinion { color: #8a5a00; font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; font-size: 13px; }
th, td { border-bottom: 1px solid #e3e7ec; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f5f7f9; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.row { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; } .row > div { flex: 1 1 420px; }
.verdicts li { margin: .2rem 0; } .b-better, .a-better, .b-higher, .a-higher { font-weight: 600; }
.too-few-items { color: #5b6573; } .crossed { color: #b3261e; font-weight: 600; } .ok { color: #1e7b34; }
.warn { background: #fff4e5; border-left: 4px solid #e89b2c; padding: .5rem .8rem; margin: .5rem 0; }
.answer { white-space: pre-wrap; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.pass { color: #1e7b34; } .fail { color: #b3261e; }
svg text { font: 11px system-ui, sans-serif; fill: #1d232b; } .legend span { margin-right: 1rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 50%; margin-right: .3rem;
          vertical-align: -1px; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#2f6fd0", "#d1495b", "#2e9e6a", "#e08e0b", "#7b4fbf", "#12a4b4", "#8c6d31", "#c2418f"];
  var data = JSON.parse(document.getElementById("eval-data").textContent);

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var key in attrs) { node.setAttribute(key, attrs[key]); }
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function text(parent, x, y, value, anchor) {
    var node = el("text", {x: x, y: y, "text-anchor": anchor || "start"}, parent);
    node.textContent = value;
    return node;
  }
  function fmt(v) { return v === null || v === undefined ? "-" : (Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)); }

  function drawScores(svg) {
    var models = data.models.map(function (m) { return m.label; });
    var metrics = data.metrics.map(function (m) { return m.name; });
    var left = 170, right = 50, width = 640, rowH = 18 * models.length + 30, top = 16;
    svg.setAttribute("width", width);
    svg.setAttribute("height", top + rowH * metrics.length + 10);
    var marks = 0;
    metrics.forEach(function (metric, r) {
      var rows = data.summaries.filter(function (s) { return s.metric === metric; });
      var kind = rows.length ? rows[0].kind : "score";
      var max = 1;
      if (kind === "value") {
        rows.forEach(function (s) { max = Math.max(max, s.high || s.value || 0); });
      }
      var y0 = top + r * rowH;
      var x = function (v) { return left + (width - left - right) * Math.max(0, Math.min(1, v / max)); };
      var label = text(svg, 0, y0 + 14, metric.length > 26 ? metric.slice(0, 25) + "…" : metric);
      el("title", {}, label).textContent = metric;
      var axis = y0 + rowH - 16;
      el("line", {x1: x(0), x2: x(max), y1: axis, y2: axis, stroke: "#c9d0d8"}, svg);
      text(svg, x(0), axis + 12, "0", "middle");
      text(svg, x(max), axis + 12, fmt(max), "middle");
      rows.forEach(function (s) {
        var i = models.indexOf(s.model), y = y0 + 10 + 18 * i, color = COLORS[i % COLORS.length];
        if (s.value === null) { return; }
        if (s.low !== null && s.high !== null) {
          el("line", {x1: x(s.low), x2: x(s.high), y1: y, y2: y, stroke: color, "stroke-width": 2}, svg);
        }
        var dot = el("circle", {cx: x(s.value), cy: y, r: 5, fill: color, "class": "score-mark",
                                "data-model": s.model, "data-metric": metric}, svg);
        el("title", {}, dot).textContent = s.model + " · " + metric + ": " + fmt(s.value) +
          (s.low !== null ? " [" + fmt(s.low) + ", " + fmt(s.high) + "]" : "") + " n=" + s.n;
        text(svg, x(s.high !== null ? Math.max(s.high, s.value) : s.value) + 8, y + 4, fmt(s.value));
        marks += 1;
      });
    });
    return marks;
  }

  function drawLoss(svg, points) {
    var width = 420, height = 200, pad = 34;
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    var steps = points.map(function (p) { return p.step; });
    var losses = [];
    points.forEach(function (p) {
      if (p.train_loss !== undefined) { losses.push(p.train_loss); }
      if (p.valid_loss !== undefined) { losses.push(p.valid_loss); }
    });
    var sMin = Math.min.apply(null, steps), sMax = Math.max.apply(null, steps);
    var lMin = Math.min.apply(null, losses), lMax = Math.max.apply(null, losses);
    if (sMax === sMin) { sMax = sMin + 1; }
    if (lMax === lMin) { lMax = lMin + 1; }
    var x = function (s) { return pad + (width - 2 * pad) * (s - sMin) / (sMax - sMin); };
    var y = function (l) { return height - pad - (height - 2 * pad) * (l - lMin) / (lMax - lMin); };
    el("line", {x1: pad, x2: width - pad, y1: height - pad, y2: height - pad, stroke: "#c9d0d8"}, svg);
    el("line", {x1: pad, x2: pad, y1: pad, y2: height - pad, stroke: "#c9d0d8"}, svg);
    text(svg, pad, height - pad + 14, String(sMin), "middle");
    text(svg, width - pad, height - pad + 14, String(sMax) + " steps", "middle");
    text(svg, pad - 4, y(lMax) + 4, fmt(lMax), "end");
    text(svg, pad - 4, y(lMin) + 4, fmt(lMin), "end");
    var marks = 0;
    [["train_loss", "#2f6fd0", ""], ["valid_loss", "#d1495b", "5 3"]].forEach(function (series) {
      var pts = points.filter(function (p) { return p[series[0]] !== undefined; })
                      .map(function (p) { return x(p.step).toFixed(1) + "," + y(p[series[0]]).toFixed(1); });
      if (pts.length) {
        el("polyline", {points: pts.join(" "), fill: "none", stroke: series[1], "stroke-width": 2,
                        "stroke-dasharray": series[2], "class": "loss-line", "data-series": series[0]}, svg);
        var key = text(svg, width - pad, pad - 8 + 14 * marks, series[0].replace("_", " "), "end");
        key.setAttribute("fill", series[1]);
        marks += 1;
      }
    });
    return marks;
  }

  function done(svg, marks) {
    var box = svg.getBBox();
    svg.setAttribute("data-rendered", "true");
    svg.setAttribute("data-marks", String(marks));
    svg.setAttribute("data-drawn-width", String(Math.round(box.width)));
  }

  var scores = document.getElementById("scores-chart");
  if (scores) { done(scores, drawScores(scores)); }
  Array.prototype.forEach.call(document.querySelectorAll("svg.loss-chart"), function (svg) {
    var points = data.loss_curves[svg.getAttribute("data-model")] || [];
    done(svg, points.length ? drawLoss(svg, points) : 0);
  });
})();
"""
