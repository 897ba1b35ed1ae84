// Charts with uPlot (vendored), loaded only by the pages that draw them.
import { html, useEffect, useRef } from "../app.js";

let loading = null;
export function loadUplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!loading) {
    loading = new Promise((ok, fail) => {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = "/app/vendor/uplot/uPlot.min.css";
      document.head.append(css);
      const script = document.createElement("script");
      script.src = "/app/vendor/uplot/uPlot.iife.min.js";
      script.onload = () => ok(window.uPlot);
      script.onerror = fail;
      document.head.append(script);
    });
  }
  return loading;
}

const COLORS = ["#1f5f8b", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d"];
export const seconds = (iso) => Date.parse(`${iso}T00:00:00Z`) / 1000;

/** A uPlot chart: ``x`` in unix seconds, ``series`` [{label, values}], ``bars`` to draw bars. */
export function Chart({ title, x, series, bars = false, id, monthly = false }) {
  const box = useRef(null);
  useEffect(() => {
    let plot = null;
    let alive = true;
    loadUplot().then((uPlot) => {
      if (!alive || !box.current) return;
      box.current.textContent = "";
      const width = Math.max(box.current.clientWidth, 300);
      const paths = bars && uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8 / Math.max(series.length, 1), 60] }) : undefined;
      plot = new uPlot({
        width, height: 260, title,
        // monthly points: half a month of room each side, one tick per month labelled YYYY-MM
        scales: { x: monthly ? { time: true, range: (u, lo, hi) => [lo - 16 * 86400, hi + 16 * 86400] } : { time: true } },
        series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2,
          fill: bars ? COLORS[i % COLORS.length] + "99" : undefined, paths }))],
        axes: [monthly ? { splits: (u) => u.data[0], values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(0, 7)) } : {},
          { size: 70 }],
      }, [x, ...series.map((s) => s.values)], box.current);
    });
    return () => { alive = false; if (plot) plot.destroy(); };
  }, [JSON.stringify([x, series, title])]);
  return html`<figure class="chart" id=${id} aria-label=${title}><div ref=${box}></div>
    <figcaption class="visually-hidden">${title}: ${series.map((s) => s.label).join(", ")}</figcaption></figure>`;
}
