// Bar charts drawn as SVG, with no charting library. Every chart is a
// <figure>: an SVG with role="img", a <title> and a <desc> that says what it
// shows in words, every bar's value written next to it as text, and the
// same numbers as a table underneath (open it with "Show as a table").
//
//   html`<${BarChart}
//     title="Activities completed per family"
//     summary="Pupil-premium families 1.2, other families 2.0"
//     series=${[{ name: 'Pupil premium', cls: 's1' }, { name: 'Other families', cls: 's2' }]}
//     groups=${[{ label: 'Week of 2 Nov', values: [1.2, 2.0] }]}
//     format=${(v) => v.toFixed(1)} />`
//
// Bars are horizontal, so labels of any length and language fit at 360 px
// wide; x positions are percentages of the chart's width, so the text keeps
// its size on a phone and on a desktop. With one series a row is
// "label | bar value"; with several, each group's label is a line of its
// own and each series is a row "series name | bar value". Series are told
// apart by their names as text, not only by colour.
import { html } from './ui.js';
import { t } from './i18n.js';

const ROW = 24; // px per bar row
const BAR = 16; // bar thickness
const HEAD = 22; // px for a group label line (several series)
const LINE = 15; // px per extra line of a wrapped label
const LABEL_W = 40; // % of the width for the left-hand labels
const BAR_MAX = 78; // % of the bar area the longest bar takes

let seq = 0;

// niceMax is the scale's top: the largest value, or 1 when all are zero
// (so empty data draws empty bars rather than dividing by zero).
export function niceMax(groups) {
  let m = 0;
  for (const g of groups) for (const v of g.values) if (Number.isFinite(v) && v > m) m = v;
  return m > 0 ? m : 1;
}

// wrap splits a label into at most two lines of about max characters,
// at spaces, so long labels (Welsh ones often are) fit the label column on
// a phone.
export function wrap(text, max = 15) {
  const words = String(text).split(' ');
  const lines = [''];
  for (const w of words) {
    const i = lines.length - 1;
    if (lines[i] && (lines[i] + ' ' + w).length > max && lines.length < 2) lines.push(w);
    else lines[i] = lines[i] ? `${lines[i]} ${w}` : w;
  }
  return lines;
}

// layout computes every row's position: pure, so it can be reasoned about
// apart from the drawing. Returns { height, rows: [{ y, h, kind, ... }] }.
export function layout(groups, seriesNames) {
  const rows = [];
  const many = seriesNames.length > 1;
  let y = 0;
  const bar = (gi, si, value, label) => {
    const lines = wrap(label);
    const h = ROW + (lines.length - 1) * LINE;
    rows.push({ kind: 'bar', y, h, group: gi, series: si, value, lines });
    y += h + (many ? 0 : 4);
  };
  for (const [gi, g] of groups.entries()) {
    if (many) {
      rows.push({ kind: 'head', y, text: g.label });
      y += HEAD;
      g.values.forEach((v, si) => bar(gi, si, v, seriesNames[si]));
      y += 8;
    } else {
      bar(gi, 0, g.values[0], g.label);
    }
  }
  return { height: Math.max(y, ROW), rows };
}

const pct = (x) => `${Math.round(x * 100) / 100}%`;

export function BarChart({ title, summary, series, groups, format = String, max, tableCaption, groupLabel }) {
  const id = `chart${++seq}`;
  const top = max || niceMax(groups);
  const { height, rows } = layout(groups, series.map((s) => s.name));
  const barArea = 100 - LABEL_W;
  return html`<figure class="chart">
    <figcaption class="chart-title" id=${`${id}-cap`}>${title}</figcaption>
    <svg class="chart-svg" role="img" aria-labelledby=${`${id}-t ${id}-d`} width="100%" height=${height}
      xmlns="http://www.w3.org/2000/svg">
      <title id=${`${id}-t`}>${title}</title>
      <desc id=${`${id}-d`}>${summary}</desc>
      <line class="chart-axis" x1=${pct(LABEL_W)} x2=${pct(LABEL_W)} y1="0" y2=${height} />
      ${rows.map((r) => {
        if (r.kind === 'head') {
          return html`<text class="chart-group" x="0" y=${r.y + 15}>${r.text}</text>`;
        }
        const s = series[r.series];
        const v = Number.isFinite(r.value) ? r.value : 0;
        const w = (barArea * BAR_MAX / 100) * (v / top);
        const mid = r.y + r.h / 2 - 2; // the bar's centre line
        const lx = pct(LABEL_W - 1.5);
        return html`<g class=${`chart-row ${s.cls || `s${r.series + 1}`}`}>
          <text class="chart-label" x=${lx} y=${mid - ((r.lines.length - 1) * LINE) / 2 + 4.5} text-anchor="end">
            ${r.lines.map((l, i) => html`<tspan x=${lx} dy=${i ? LINE : 0}>${l}</tspan>`)}</text>
          <rect class="chart-bar" x=${pct(LABEL_W)} y=${mid - BAR / 2} width=${pct(Math.max(w, v > 0 ? 0.4 : 0))} height=${BAR} rx="2" />
          <text class="chart-value" x=${pct(LABEL_W + w + 1)} y=${mid + 4.5}>${format(v)}</text>
        </g>`;
      })}
    </svg>
    <details class="chart-table">
      <summary>${t('chart.showTable')}</summary>
      <div class="table-wrap">
        <table>
          <caption>${tableCaption || title}</caption>
          <thead><tr>
            <th scope="col">${groupLabel || t('chart.group')}</th>
            ${series.map((s) => html`<th scope="col" class="num">${s.name}</th>`)}
          </tr></thead>
          <tbody>
            ${groups.map((g) => html`<tr>
              <th scope="row">${g.label}</th>
              ${g.values.map((v) => html`<td class="num">${format(Number.isFinite(v) ? v : 0)}</td>`)}
            </tr>`)}
          </tbody>
        </table>
      </div>
    </details>
  </figure>`;
}
