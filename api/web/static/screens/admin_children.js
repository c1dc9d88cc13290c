import { html } from '../lib/ui.js';

export default function Screen() {
  return html`<section class="panel"><h1>children</h1></section>`;
}
