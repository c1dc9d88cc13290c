import { html } from '../lib/ui.js';

export default function Screen() {
  return html`<section class="panel"><h1>classes</h1></section>`;
}
