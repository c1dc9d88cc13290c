// Placeholder: replaced by the teacher screens.
import { html } from '../lib/ui.js';
import { t } from '../lib/i18n.js';

export default function Screen() {
  return html`<section class="panel"><h1>${t('teacher.teacherSubmissions.title')}</h1></section>`;
}
