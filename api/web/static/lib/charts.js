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

// layout computes every row's position: pure, so it can be reasoned about
// apart from the drawing. Returns { height, rows: [{ y, kind, ... }] }.
export function layout(groups, nSeries) {
  const rows = [];
  let y = 0;
  for (const [gi, g] of groups.entries()) {
    if (nSeries > 1) {
      rows.push({ kind: 'head', y, text: g.label });
      y += HEAD;
      g.values.forEach((v, si) => {
        rows.push({ kind: 'bar', y, group: gi, series: si, value: v });
        y += ROW;
      });
      y += 8;
    } else {
      rows.push({ kind: 'bar', y, group: gi, series: 0, value: g.values[0], label: g.label });
      y += ROW + 4;
    }
  }
  return { height: Math.max(y, ROW), rows };
}

const pct = (x) => `${Math.round(x * 100) / 100}%`;

export function BarChart({ title, summary, series, groups, format = String, max, tableCaption, groupLabel }) {
  const id = `chart${++seq}`;
  const top = max || niceMax(groups);
  const many = series.length > 1;
  const { height, rows } = layout(groups, series.length);
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
        const label = many ? s.name : r.label;
        return html`<g class=${`chart-row ${s.cls || `s${r.series + 1}`}`}>
          <text class="chart-label" x=${pct(LABEL_W - 1.5)} y=${r.y + 13} text-anchor="end">${label}</text>
          <rect class="chart-bar" x=${pct(LABEL_W)} y=${r.y + (ROW - BAR) / 2 - 2} width=${pct(Math.max(w, v > 0 ? 0.4 : 0))} height=${BAR} rx="2" />
          <text class="chart-value" x=${pct(LABEL_W + w + 1)} y=${r.y + 13}>${format(v)}</text>
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
