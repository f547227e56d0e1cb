/**
 * The dashboard's one style sheet, served at /dashboard/assets/style.css. Plain CSS in a string so the
 * edge serves it on every runtime without reading files. Readable on a phone: one column under 48rem,
 * wide tables scroll in their own focusable region. Colours meet WCAG AA contrast; a status is always
 * also written out (OK / MISSING), never shown by colour alone.
 */
export const STYLE_CSS = `
:root { --fg: #1b1f24; --muted: #57606a; --bg: #fff; --panel: #f6f8fa; --line: #d0d7de;
  --accent: #0a5bc4; --ok: #116329; --ok-bg: #dafbe1; --bad: #a40e26; --bad-bg: #ffebe9;
  --warn: #7d4e00; --warn-bg: #fff8c5; color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible,
[tabindex]:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem; }
.skip:focus { left: .5rem; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .6rem 1rem;
  background: #0d1117; color: #f0f6fc; }
header.top a { color: #f0f6fc; }
header.top .brand { font-weight: 700; text-decoration: none; }
header.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
header.top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
header.top .who { margin-left: auto; display: flex; gap: .75rem; align-items: center; font-size: .9rem; }
header.top .who button { background: none; border: 1px solid #8b949e; color: #f0f6fc; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.notice, .error { padding: .6rem .8rem; border-radius: 6px; margin: 0 0 1rem; }
.notice { background: var(--ok-bg); color: var(--ok); }
.error { background: var(--bad-bg); color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .75rem; margin: 0 0 1rem; padding: 0; list-style: none; }
.cards li { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; }
.cards .n { display: block; font-size: 1.4rem; font-weight: 700; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td.wrap, code.wrap { word-break: break-all; }
tr:last-child td { border-bottom: 0; }
code, pre { font: .85rem/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-weight: 700; font-size: .8rem; white-space: nowrap; }
.status.ok { background: var(--ok-bg); color: var(--ok); }
.status.bad { background: var(--bad-bg); color: var(--bad); }
.status.warn { background: var(--warn-bg); color: var(--warn); }
.status.none { background: var(--panel); color: var(--muted); }
form.inline { display: inline; }
form.stack, fieldset.stack { display: grid; gap: .5rem; max-width: 32rem; }
form.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: 0 0 1rem; }
form.row label, form.stack label { display: grid; gap: .15rem; font-size: .9rem; }
input, select, button, textarea { font: inherit; padding: .35rem .5rem; border: 1px solid #8c959f; border-radius: 6px; background: var(--bg); color: var(--fg); }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.quiet { background: var(--bg); color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
fieldset { border: 1px solid var(--line); border-radius: 8px; }
.muted { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; word-break: break-word; }
.plot { min-height: 14rem; margin: 0 0 1rem; }
details > summary { cursor: pointer; }
.signin { max-width: 26rem; margin: 2rem auto; }
@media (max-width: 48rem) {
  header.top .who { margin-left: 0; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .4rem; }
  th, td { padding: .35rem .4rem; }
}
`;
