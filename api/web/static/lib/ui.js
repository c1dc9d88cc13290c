// The one module screens import their UI tools from: Preact's render and
// hooks, and htm's tagged templates bound to Preact (html`<p>${x}</p>`).
import { h, render, Fragment } from '../vendor/preact.mjs';
import { useState, useEffect, useMemo, useCallback, useRef } from '../vendor/hooks.mjs';
import htm from '../vendor/htm.mjs';

export const html = htm.bind(h);
export { h, render, Fragment, useState, useEffect, useMemo, useCallback, useRef };
