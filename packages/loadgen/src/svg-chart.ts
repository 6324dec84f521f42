/** One line of a chart: [x, y] points in data units. */
export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

/** A line chart drawn as inline SVG (no scripts, no external resources). */
export interface ChartSpec {
  /** Goes into `data-plot`, so a report (and its tests) can find the chart. */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Labels for x = 0, 1, 2, … (categorical axis) instead of numeric ticks. */
  xCategories?: string[];
  /** Right end of a numeric x axis (default: the largest x in the data), so charts can share it. */
  xMax?: number;
  width?: number;
  height?: number;
}

/** Escapes text for HTML/SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

/** A round upper bound and step for an axis from 0 to `max`. */
export function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
  return { top: Math.ceil(max / step) * step, step };
}

function label(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  if (a < 0.01) return v.toExponential(1);
  return `${+v.toFixed(a < 1 ? 3 : 2)}`;
}

function xTicksFor(xMax: number): [number, string][] {
  const { step } = niceScale(xMax, 6);
  const out: [number, string][] = [];
  for (let x = 0; x <= xMax + 1e-9; x += step) out.push([x, label(x)]);
  return out;
}

/** Renders the chart; an empty series list yields a framed "no data" plot of the same size. */
export function renderLineChart(spec: ChartSpec): string {
  const W = spec.width ?? 760;
  const H = spec.height ?? 280;
  const m = { l: 64, r: 16, t: 30, b: 46 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = spec.series.flatMap((s) => s.points);
  const xMax = spec.xCategories
    ? Math.max(1, spec.xCategories.length - 1)
    : Math.max(1, spec.xMax ?? 0, ...all.map((p) => p[0]));
  const y = niceScale(Math.max(0, ...all.map((p) => p[1])));
  const sx = (x: number): number => m.l + (x / xMax) * pw;
  const sy = (v: number): number => m.t + ph - (v / y.top) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="plot" data-plot="${escapeXml(spec.id)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(spec.title)}">`,
  );
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${m.l}" y="18" font-size="14" font-weight="600">${escapeXml(spec.title)}</text>`);
  for (let v = 0; v <= y.top + y.step / 2; v += y.step) {
    const yy = sy(v).toFixed(1);
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.l - 6}" y="${yy}" font-size="11" text-anchor="end" dominant-baseline="middle">${label(v)}</text>`);
  }
  const xTicks: [number, string][] = spec.xCategories
    ? spec.xCategories.map((c, i) => [i, c])
    : xTicksFor(xMax);
  for (const [x, text] of xTicks) {
    const xx = sx(x).toFixed(1);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${m.t + ph}" y2="${m.t + ph + 4}" stroke="#888"/>`);
    out.push(`<text x="${xx}" y="${m.t + ph + 16}" font-size="11" text-anchor="middle">${escapeXml(text)}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${H - 6}" font-size="12" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  out.push(
    `<text x="14" y="${m.t + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${m.t + ph / 2})">${escapeXml(spec.yLabel)}</text>`,
  );
  if (all.length === 0) {
    out.push(`<text x="${m.l + pw / 2}" y="${m.t + ph / 2}" font-size="13" fill="#888" text-anchor="middle">no data</text>`);
  }
  spec.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j === 0 ? "M" : "L"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
    out.push(`<path class="series" data-series="${escapeXml(s.name)}" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    if (s.points.length <= 40) {
      for (const p of s.points) out.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    }
    const lx = m.l + 10 + i * 130;
    out.push(`<rect x="${lx}" y="${m.t + 6}" width="10" height="10" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 14}" y="${m.t + 15}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}
