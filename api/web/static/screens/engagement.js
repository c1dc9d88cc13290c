// Engagement as charts read at a glance. Counts are turned into rates per
// family (the count divided by the number of children in the group, since
// the API counts per child), so a small group and a large one compare
// fairly. School admins see the school's pupil-premium split; teachers
// and admins see a class's weeks (the API keeps the split to admins).
import { html, useState } from '../lib/ui.js';
import { t, locale } from '../lib/i18n.js';
import { api, download } from '../lib/api.js';
import { navigate as go } from '../lib/router.js';
import { useLoad, Load, Field, ErrorBanner } from '../lib/components.js';
import { BarChart } from '../lib/charts.js';
import { schoolPath, classPath, weekLabel, yearName } from '../lib/teaching.js';

export const METRICS = ['sign_ins', 'views', 'completions', 'ratings', 'photos', 'comments'];
const WEEK_CHOICES = [4, 8, 12];

const rate = (n, families) => (families > 0 ? n / families : 0);
const total = (weeks, m) => weeks.reduce((s, w) => s + (w[m] || 0), 0);
const oneDecimal = (v) => new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v);

function Legend({ series }) {
  return html`<ul class="legend" aria-hidden="true">${series.map((s) => html`<li class=${s.cls}>${s.name}</li>`)}</ul>`;
}

function SchoolSplit({ school, weeks }) {
  const [csvError, setCsvError] = useState(null);
  const state = useLoad(async () => {
    const [eng, kids] = await Promise.all([
      api.get(`${schoolPath(school)}/engagement?weeks=${weeks}`),
      api.get(`${schoolPath(school)}/children`),
    ]);
    const items = kids.items || [];
    const pp = items.filter((k) => k.pupil_premium).length;
    return { eng, pp, other: items.length - pp };
  }, [school.id, weeks]);
  const downloadCSV = async () => {
    setCsvError(null);
    try {
      await download(`${schoolPath(school)}/engagement.csv?weeks=${weeks}`, 'text/csv', `engagement-${school.id}.csv`);
    } catch (e) {
      setCsvError(e);
    }
  };
  return html`<section class="panel" aria-labelledby="split-title">
    <h2 id="split-title">${t('engagement.split.title')}</h2>
    <${Load} state=${state}>${({ eng, pp, other }) => {
      const series = [
        { name: t('engagement.pp'), cls: 's1' },
        { name: t('engagement.other'), cls: 's2' },
      ];
      const ppDone = rate(total(eng.pupil_premium, 'completions'), pp);
      const otherDone = rate(total(eng.other, 'completions'), other);
      const byMetric = METRICS.map((m) => ({
        label: t(`engagement.metric.${m}`),
        values: [rate(total(eng.pupil_premium, m), pp), rate(total(eng.other, m), other)],
      }));
      const byWeek = eng.pupil_premium.map((w, i) => ({
        label: weekLabel(w.week),
        values: [rate(w.completions, pp), rate((eng.other[i] || {}).completions || 0, other)],
      }));
      const describe = (groups) => groups.map((g) => `${g.label}: ${series.map((s, i) => `${s.name} ${oneDecimal(g.values[i])}`).join(', ')}`).join('; ');
      return html`
        <p>${t('engagement.split.families', { pp, other })}</p>
        ${pp === 0 && html`<p class="banner warn">${t('engagement.split.noPP')}</p>`}
        <p class="headline"><strong>${t('engagement.split.headline', { weeks, pp: oneDecimal(ppDone), other: oneDecimal(otherDone) })}</strong></p>
        <p class="hint">${t('engagement.perFamilyHint')}</p>
        <${Legend} series=${series} />
        <div class="chart-grid">
          <${BarChart} title=${t('engagement.split.byMetric', { weeks })} series=${series} groups=${byMetric} groupLabel=${t('chart.measure')}
            format=${oneDecimal} summary=${describe(byMetric)} />
          <${BarChart} title=${t('engagement.split.byWeek')} series=${series} groups=${byWeek} groupLabel=${t('chart.week')}
            format=${oneDecimal} summary=${describe(byWeek)} />
        </div>
        <div class="actions">
          <button type="button" onClick=${downloadCSV}>${t('engagement.csv')}</button>
        </div>
        <${ErrorBanner} error=${csvError} />`;
    }}</${Load}>
  </section>`;
}

function ClassView({ school, cls, weeks }) {
  const state = useLoad(async () => {
    const [eng, kids] = await Promise.all([
      api.get(`${classPath(school, cls.id)}/engagement?weeks=${weeks}`),
      api.get(`${classPath(school, cls.id)}/children`),
    ]);
    return { eng, families: (kids.items || []).length };
  }, [school.id, cls.id, weeks]);
  return html`<${Load} state=${state}>${({ eng, families }) => {
    const series = [{ name: t('engagement.perFamily'), cls: 's1' }];
    const byMetric = METRICS.map((m) => ({ label: t(`engagement.metric.${m}`), values: [rate(total(eng.weeks, m), families)] }));
    const byWeek = eng.weeks.map((w) => ({ label: weekLabel(w.week), values: [rate(w.completions, families)] }));
    const describe = (groups) => groups.map((g) => `${g.label} ${oneDecimal(g.values[0])}`).join('; ');
    const done = total(eng.weeks, 'completions');
    return html`
      <p>${t('engagement.class.families', { count: families })}</p>
      <p class="headline"><strong>${t('engagement.class.headline', { weeks, rate: oneDecimal(rate(done, families)), count: done })}</strong></p>
      <div class="chart-grid">
        <${BarChart} title=${t('engagement.class.byMetric', { name: cls.name, weeks })} series=${series} groups=${byMetric} groupLabel=${t('chart.measure')}
          format=${oneDecimal} summary=${describe(byMetric)} />
        <${BarChart} title=${t('engagement.class.byWeek', { name: cls.name })} series=${series} groups=${byWeek} groupLabel=${t('chart.week')}
          format=${oneDecimal} summary=${describe(byWeek)} />
      </div>`;
  }}</${Load}>`;
}

export default function Screen({ school, query }) {
  const isAdmin = (school.roles || []).includes('admin');
  const [weeks, setWeeks] = useState(8);
  const classes = useLoad(() => api.get(`${schoolPath(school)}/classes`), [school.id]);
  const wanted = query && query.get('class');
  const base = `/s/${encodeURIComponent(school.id)}/engagement`;
  return html`<section>
    <div class="panel">
      <h1>${t('engagement.title')}</h1>
      <p>${t('engagement.intro')}</p>
      <${Field} as="select" label=${t('engagement.weeks')} value=${String(weeks)} onChange=${(e) => setWeeks(Number(e.target.value))}>
        ${WEEK_CHOICES.map((n) => html`<option value=${String(n)}>${t('engagement.weeksN', { count: n })}</option>`)}
      </${Field}>
    </div>
    ${isAdmin && html`<${SchoolSplit} school=${school} weeks=${weeks} />`}
    <section class="panel" aria-labelledby="class-title">
      <h2 id="class-title">${t('engagement.class.title')}</h2>
      ${!isAdmin && html`<p class="hint">${t('engagement.class.noSplit')}</p>`}
      <${Load} state=${classes}>${(d) => {
        const items = d.items || [];
        if (!items.length) return html`<p>${t('classes.none')}</p>`;
        const cls = items.find((c) => c.id === wanted) || items[0];
        return html`
          ${items.length > 1 && html`<${Field} as="select" label=${t('engagement.class.pick')} value=${cls.id}
            onChange=${(e) => go(`${base}?class=${encodeURIComponent(e.target.value)}`)}>
            ${items.map((c) => html`<option value=${c.id}>${c.name} (${yearName(c.year_group)})</option>`)}
          </${Field}>`}
          <${ClassView} school=${school} cls=${cls} weeks=${weeks} />`;
      }}</${Load}>
    </section>
  </section>`;
}
