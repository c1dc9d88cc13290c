// Roster import: upload the MIS export, read the dry run (problems by row
// and column in the school's own headers, the SMS cost against what is
// left of this month's budget, leavers), then commit and watch the invites
// go out. Every check is the API's; this screen only shows its answers.
import { html, useState, useEffect, useRef } from '../lib/ui.js';
import { t, fmt, language } from '../lib/i18n.js';
import { api, ApiError } from '../lib/api.js';
import { href } from '../lib/router.js';
import { ErrorBanner, TableWrap } from '../lib/components.js';
import { InviteProgress } from '../lib/broadcast.js';

// headersOf reads the header row of a CSV file (enough to offer the
// columns when the API asks for a mapping).
async function headersOf(file) {
  const text = await file.slice(0, 64 * 1024).text();
  const line = text.replace(/^\uFEFF/, '').split(/\r?\n/)[0] || '';
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur.trim()); cur = ''; } else cur += ch;
  }
  out.push(cur.trim());
  return out.filter(Boolean);
}

function importURL(schoolId, opts) {
  const q = new URLSearchParams({ dry_run: opts.commit ? 'false' : 'true' });
  if (opts.commit && opts.confirmLeavers) q.set('confirm_leavers', 'true');
  if (opts.mapping && Object.keys(opts.mapping).length) q.set('mapping', JSON.stringify(opts.mapping));
  if (opts.prMissing) q.set('pr_missing', opts.prMissing);
  return `/v1/schools/${encodeURIComponent(schoolId)}/imports?${q}`;
}

function fileHeaders(file) {
  const h = { 'Content-Type': 'text/csv' };
  if (/^[\x20-\x7e]{1,200}$/.test(file.name)) h['X-File-Name'] = file.name;
  return h;
}

function Summary({ s }) {
  const rows = [
    ['import.rows', s.rows], ['import.pupils', s.pupils], ['import.newChildren', s.new_children],
    ['import.changedChildren', s.changed_children], ['import.unchangedChildren', s.unchanged_children],
    ['import.leavers', s.leavers], ['import.households', s.households], ['import.newParents', s.new_parents],
    ['import.invites', s.invites], ['import.invitesBySms', s.invites_by_sms], ['import.invitesByEmail', s.invites_by_email],
    ['import.unreachable', s.unreachable], ['import.rejectedRows', s.rejected_rows], ['import.withoutPR', s.contacts_without_pr],
  ];
  return html`<dl class="stats">${rows.map(([k, v]) => html`<div><dt>${t(k)}</dt><dd>${fmt.number(v)}</dd></div>`)}</dl>`;
}

function Cost({ s, budget }) {
  const over = budget && s.sms_cost_pence > budget.remaining_pence;
  return html`<section aria-labelledby="cost-h">
    <h2 id="cost-h">${t('import.costTitle')}</h2>
    <p>${t('import.cost', { cost: fmt.pence(s.sms_cost_pence), segments: s.sms_segments, price: fmt.pence(s.sms_price_pence) })}</p>
    ${budget && html`<p>${t('import.budget', { left: fmt.pence(budget.remaining_pence), budget: fmt.pence(budget.budget_pence) })}</p>`}
    ${budget && html`<div class="meter-label"><span id="budget-label">${t('import.afterImport')}</span>
      <span>${fmt.pence(Math.max(0, budget.remaining_pence - s.sms_cost_pence))}</span></div>
      <progress aria-labelledby="budget-label" max=${Math.max(1, budget.budget_pence)}
        value=${Math.max(0, budget.remaining_pence - s.sms_cost_pence)}></progress>`}
    ${over && html`<p class="banner warn">${t('import.overBudget')}</p>`}
  </section>`;
}

// problemText is the API's own sentence in English, the code's name in
// other languages (the API writes for English-speaking admins).
function problemText(p) {
  if (language() === 'en') return p.message;
  const k = 'import.code.' + p.code;
  return t(k) !== k ? t(k) : p.message;
}

function Problems({ result }) {
  const counts = Object.entries(result.problem_counts || {});
  return html`<section aria-labelledby="problems-h">
    <h2 id="problems-h">${t('import.problemsTitle')}</h2>
    ${result.problems.length === 0
      ? html`<p class="banner ok">${t('import.noProblems')}</p>`
      : html`
        <p>${counts.map(([code, n], i) => html`${i ? ', ' : ''}${t('import.code.' + code) !== 'import.code.' + code ? t('import.code.' + code) : code}: ${fmt.number(n)}`)}</p>
        <${TableWrap} label=${t('import.problemsCaption')}>
          <table>
            <caption>${t('import.problemsCaption')}</caption>
            <thead><tr><th scope="col" class="num">${t('import.row')}</th><th scope="col">${t('import.column')}</th>
              <th scope="col">${t('import.problem')}</th><th scope="col">${t('import.severity')}</th></tr></thead>
            <tbody>${result.problems.map((p) => html`<tr>
              <td class="num">${p.row}</td><td>${p.column}</td><td>${problemText(p)}</td>
              <td><span class=${'tag ' + (p.severity === 'error' ? 'bad' : 'warn')}>${t('import.sev.' + p.severity)}</span></td>
            </tr>`)}</tbody>
          </table>
        </${TableWrap}>
        ${result.problems_truncated && html`<p>${t('import.truncated')}</p>`}`}
  </section>`;
}

function Languages({ rows }) {
  if (!rows || !rows.length) return null;
  return html`<${TableWrap} label=${t('import.byLanguage')}>
    <table>
      <caption>${t('import.byLanguage')}</caption>
      <thead><tr><th scope="col">${t('common.language')}</th><th scope="col" class="num">${t('import.invites')}</th>
        <th scope="col" class="num">${t('import.invitesBySms')}</th><th scope="col" class="num">${t('import.invitesByEmail')}</th>
        <th scope="col" class="num">${t('import.smsCost')}</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr><td>${t('lang.' + r.language)}</td><td class="num">${fmt.number(r.invites)}</td>
        <td class="num">${fmt.number(r.sms)}</td><td class="num">${fmt.number(r.email)}</td><td class="num">${fmt.pence(r.sms_cost_pence)}</td></tr>`)}</tbody>
    </table>
  </${TableWrap}>`;
}

export default function Screen({ school }) {
  const [file, setFile] = useState(null);
  const [headers, setHeaders] = useState([]);
  const [mapping, setMapping] = useState({});
  const [mappingNeeded, setMappingNeeded] = useState(null);
  const [prMissing, setPrMissing] = useState('');
  const [prAsked, setPrAsked] = useState(false);
  const [result, setResult] = useState(null);
  const [budget, setBudget] = useState(null);
  const [busy, setBusy] = useState('');
  const [error, setError] = useState(null);
  const [confirmLeavers, setConfirmLeavers] = useState(false);
  const [committed, setCommitted] = useState(null);
  const resultHeading = useRef(null);
  const base = `/v1/schools/${encodeURIComponent(school.id)}`;

  useEffect(() => {
    api.get(`${base}/sms-budget`).then(setBudget, () => setBudget(null));
  }, [school.id]);
  useEffect(() => {
    if ((result || committed) && resultHeading.current) resultHeading.current.focus();
  }, [result, committed]);

  const chooseFile = async (e) => {
    const f = e.target.files[0] || null;
    setFile(f);
    setResult(null);
    setCommitted(null);
    setMapping({});
    setMappingNeeded(null);
    setPrMissing('');
    setPrAsked(false);
    setError(null);
    setConfirmLeavers(false);
    setHeaders(f ? await headersOf(f) : []);
  };

  const send = async (commit) => {
    setBusy(commit ? 'commit' : 'check');
    setError(null);
    try {
      const res = await api.post(importURL(school.id, { commit, mapping, prMissing, confirmLeavers }), file, { headers: fileHeaders(file) });
      if (commit) setCommitted(res); else setResult(res);
      if (!commit && res.warnings.some((w) => w.code === 'pr_column_missing')) setPrAsked(true);
      setMappingNeeded(null);
    } catch (err) {
      const mapFields = Object.keys(err.fields || {}).filter((k) => k.startsWith('mapping.'));
      if (err instanceof ApiError && err.status === 422 && mapFields.length) {
        setMappingNeeded(Object.fromEntries(mapFields.map((k) => [k.slice('mapping.'.length), err.fields[k]])));
        setResult(null);
      } else {
        setError(err);
      }
    }
    setBusy('');
  };

  const s = result && result.summary;
  const prWarning = result && result.warnings.some((w) => w.code === 'pr_column_missing');
  const needsLeaverConfirm = s && s.leaver_share > 0.2;
  const canCommit = result && !busy && (!needsLeaverConfirm || confirmLeavers) && (!prWarning || prMissing);

  if (committed) {
    const cs = committed.summary;
    return html`<section class="panel">
      <h1>${t('nav.import')}</h1>
      <h2 tabindex="-1" ref=${resultHeading}>${t('import.committedTitle')}</h2>
      <p class="banner ok" role="status">${t('import.committed', { children: cs.new_children + cs.changed_children, invited: committed.invited })}</p>
      ${committed.invite_broadcast_id && html`<${InviteProgress} schoolId=${school.id} broadcastId=${committed.invite_broadcast_id} />`}
      <p><a class="button primary" href=${href(`/s/${encodeURIComponent(school.id)}/admin/funnel`)}>${t('import.toFunnel')}</a></p>
    </section>`;
  }

  return html`<section class="panel">
    <h1>${t('nav.import')}</h1>
    <p>${t('import.intro')}</p>
    <form onSubmit=${(e) => { e.preventDefault(); if (file) send(false); }}>
      <div class="field">
        <label for="import-file">${t('import.file')}</label>
        <p class="hint" id="import-file-hint">${t('import.fileHint')}</p>
        <input id="import-file" type="file" accept=".csv,text/csv" aria-describedby="import-file-hint" onChange=${chooseFile} />
      </div>
      ${mappingNeeded && html`<fieldset>
        <legend>${t('import.mappingTitle')}</legend>
        <p>${t('import.mappingIntro')}</p>
        ${Object.entries(mappingNeeded).map(([field, why]) => html`<div class="field">
          <label for=${'map-' + field}>${t('import.field.' + field) !== 'import.field.' + field ? t('import.field.' + field) : field}</label>
          <p class="hint" id=${'map-' + field + '-hint'}>${why}</p>
          <select id=${'map-' + field} aria-describedby=${'map-' + field + '-hint'} value=${mapping[field] || ''}
            onChange=${(e) => setMapping({ ...mapping, [field]: e.target.value })}>
            <option value="">${t('import.chooseColumn')}</option>
            ${headers.map((h) => html`<option value=${h}>${h}</option>`)}
          </select>
        </div>`)}
      </fieldset>`}
      ${prAsked && html`<fieldset>
        <legend>${t('import.prTitle')}</legend>
        <p class="hint">${t('import.prHint')}</p>
        ${['priority_one_only', 'treat_all_as_parents'].map((v) => html`<div class="check">
          <input type="radio" id=${'pr-' + v} name="pr_missing" value=${v} checked=${prMissing === v}
            onChange=${() => { setPrMissing(v); setResult(null); }} />
          <label for=${'pr-' + v}>${t('import.pr.' + v)}</label>
        </div>`)}
      </fieldset>`}
      <button type="submit" class="primary" disabled=${!file || !!busy}>${busy === 'check' ? t('import.checking') : t('import.check')}</button>
      ${busy === 'check' && html`<progress aria-label=${t('import.checking')}></progress>`}
    </form>
    <${ErrorBanner} error=${error} />

    ${result && html`<div class="result">
      <h2 tabindex="-1" ref=${resultHeading}>${t('import.dryRunTitle', { file: file ? file.name : '' })}</h2>
      <p>${t('import.dryRunIntro')}</p>
      <${Summary} s=${s} />
      ${result.warnings.map((w) => html`<p class="banner warn">${w.message}</p>`)}
      <${Cost} s=${s} budget=${budget} />
      <${Languages} rows=${result.by_language} />
      <${Problems} result=${result} />
      ${s.leavers > 0 && html`<section aria-labelledby="leavers-h" class=${needsLeaverConfirm ? 'banner warn' : ''}>
        <h2 id="leavers-h">${t('import.leaversTitle')}</h2>
        <p>${t('import.leaversText', { count: s.leavers, share: fmt.percent(s.leaver_share) })}</p>
        ${needsLeaverConfirm && html`<div class="check">
          <input type="checkbox" id="confirm-leavers" checked=${confirmLeavers} onChange=${(e) => setConfirmLeavers(e.target.checked)} />
          <label for="confirm-leavers">${t('import.leaversConfirm', { count: s.leavers })}</label>
        </div>`}
      </section>`}
      <div class="actions">
        <button type="button" class="primary" disabled=${!canCommit} onClick=${() => send(true)}>
          ${busy === 'commit' ? t('import.committing') : t('import.commit', { count: s.invites })}</button>
      </div>
      ${busy === 'commit' && html`<div><span id="commit-label">${t('import.committing')}</span>
        <progress aria-labelledby="commit-label"></progress></div>`}
      ${prWarning && !prMissing && html`<p class="hint">${t('import.prChooseFirst')}</p>`}
    </div>`}
  </section>`;
}
