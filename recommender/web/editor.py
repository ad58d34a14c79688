"""The editor's page the HTTP API serves at ``/``: search an article, see its list as readers will, with
each link's score, reason and shared words, preview ranking controls, and pin, block, hide or disable.

Plain HTML and one script, both served by the app itself (no build step, no CDN: it works offline). The
page holds no data of the model: the script asks the JSON API and puts every text in with
``textContent``, never as HTML. Writes send the token in the ``Authorization`` header, which a form on
another site cannot set, and the page's Content-Security-Policy allows only its own script.
"""

# The page and its script are kept as they would be written in their own files: long lines allowed.
# ruff: noqa: E501

from __future__ import annotations

__all__ = ["PAGE", "SCRIPT", "SECURITY_HEADERS"]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Related posts: editor</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem; color: #222; }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
#model { color: #666; }
main { display: grid; grid-template-columns: 20rem 1fr; gap: 1.5rem; }
ul.found { list-style: none; padding: 0; max-height: 32rem; overflow: auto; }
ul.found button { all: unset; cursor: pointer; display: block; padding: .25rem .4rem; }
ul.found button:hover, ul.found button:focus { background: #eef; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: .3rem .4rem; text-align: left; vertical-align: top; }
.terms { color: #666; font-size: 90%; }
.hand { background: #fff6d8; }
fieldset { border: 1px solid #ddd; margin: .5rem 0; }
#status { min-height: 1.4em; color: #a40; }
</style>
</head>
<body>
<header>
  <h1>Related posts</h1>
  <span id="model"></span>
  <label>Token <input id="token" type="password" autocomplete="off" placeholder="read-only without it"></label>
</header>
<p id="status" role="status"></p>
<main>
  <section>
    <label for="search">Find an article</label>
    <input id="search" type="search" placeholder="title or id" autofocus>
    <ul id="found" class="found"></ul>
    <h2>Audit</h2>
    <button id="audit" type="button">Orphans and most exposed</button>
    <div id="audit-result"></div>
  </section>
  <section>
    <h2 id="subject">Pick an article</h2>
    <fieldset id="controls">
      <legend>Preview with controls</legend>
      <label><input type="checkbox" name="past_only"> past only</label>
      <label><input type="checkbox" name="same_category"> same category</label>
      <label><input type="checkbox" name="fill"> fill</label>
      <label>max age <input name="max_age" size="5" placeholder="365d"></label>
      <label>half-life <input name="half_life" size="5" placeholder="180d"></label>
      <label>mmr <input name="mmr" size="4" placeholder="0.7"></label>
      <label>k <input name="k" size="3" value="8"></label>
    </fieldset>
    <div id="subject-actions"></div>
    <table id="links" hidden>
      <thead><tr><th>#</th><th>title</th><th>score</th><th>similarity</th><th>why</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
    <h3>As readers see it</h3>
    <iframe id="preview" sandbox title="the block as readers see it" style="width:100%;height:16rem;border:1px solid #ddd"></iframe>
    <h3>Set by hand</h3>
    <ul id="by-hand"></ul>
  </section>
</main>
<script src="/editor.js"></script>
</body>
</html>
"""

SCRIPT = r"""'use strict';
const $ = (id) => document.getElementById(id);
const el = (tag, text, props) => Object.assign(document.createElement(tag), { textContent: text ?? '' }, props);
let subject = null;
let found = [];

function say(text) { $('status').textContent = text; }
function token() { return $('token').value.trim(); }
$('token').value = sessionStorage.getItem('recommender-token') || '';
$('token').addEventListener('change', () => { sessionStorage.setItem('recommender-token', token()); show(); });

async function api(path, options) {
  const response = await fetch(path, { cache: 'no-store', ...options });  // always the list as it is now
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) { throw new Error((data && data.error) || response.statusText); }
  return data;
}

async function health() {
  const h = await api('/healthz');
  $('model').textContent = `${h.articles} articles, generation ${h.generation ?? '-'}`;
}

async function search() {
  const text = $('search').value.trim();
  const list = $('found');
  found = await api('/articles?limit=50&search=' + encodeURIComponent(text));
  list.replaceChildren(...found.map((a) => {
    const button = el('button', a.title || a.article_id, { type: 'button', title: a.article_id });
    button.dataset.id = a.article_id;
    button.addEventListener('click', () => { subject = a; show(); });
    return el('li', '', {}).appendChild(button).parentNode;
  }));
}

function controls() {
  const query = new URLSearchParams({ explain: 'true' });
  for (const input of $('controls').querySelectorAll('input')) {
    if (input.type === 'checkbox') { if (input.checked) query.set(input.name, 'true'); }
    else if (input.value.trim()) { query.set(input.name, input.value.trim()); }
  }
  return query;
}

function action(label, change) {
  const button = el('button', label, { type: 'button', disabled: !token() });
  button.dataset.action = change.action;
  button.addEventListener('click', () => edit(change));
  return button;
}

async function edit(change) {
  try {
    await api('/overrides', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token() },
      body: JSON.stringify(change),
    });
    say(`${change.action} saved`);
    await show();
  } catch (error) { say(error.message); }
}

async function show() {
  if (!subject) return;
  $('subject').textContent = subject.title || subject.article_id;
  try {
    const [links, overrides] = await Promise.all([
      api('/related/' + encodeURIComponent(subject.article_id) + '?' + controls()),
      api('/overrides'),
    ]);
    const id = subject.article_id;
    const disabled = overrides.disable.includes(id);
    $('subject-actions').replaceChildren(
      action(disabled ? 'Enable its list' : 'Disable its list', { action: disabled ? 'enable' : 'disable', article_id: id }),
    );
    const reading = new URLSearchParams(controls());
    reading.delete('explain');
    const block = await fetch('/block/' + encodeURIComponent(id) + '?' + reading, { cache: 'no-store' });
    $('preview').srcdoc = block.ok ? await block.text() : '';  // a sandboxed frame: no script runs there
    const body = $('links').tBodies[0];
    body.replaceChildren(...links.map((link) => row(id, link)));
    $('links').hidden = false;
    byHand(id, overrides);
  } catch (error) { say(error.message); }
}

function row(id, link) {
  const tr = el('tr', '', { className: link.reason === 'pinned' ? 'hand' : '' });
  tr.dataset.id = link.article_id;
  const title = el('td', '');
  if (/^https?:\/\//.test(link.url || '')) { title.append(el('a', link.title, { href: link.url })); }
  else { title.append(el('span', link.title || link.article_id)); }
  const terms = (link.terms || []).map((t) => `${t.term} ${Math.round(t.share * 100)}%`).join(', ');
  title.append(el('div', terms, { className: 'terms' }));
  const actions = el('td', '');
  if (link.reason === 'pinned') actions.append(action('Unpin', { action: 'unpin', article_id: id, other_id: link.article_id }));
  else actions.append(action('Pin', { action: 'pin', article_id: id, other_id: link.article_id }));
  actions.append(action('Block', { action: 'block', article_id: id, other_id: link.article_id }));
  actions.append(action('Hide everywhere', { action: 'hide', article_id: link.article_id }));
  tr.append(el('td', String(link.rank)), title, el('td', link.score.toFixed(3)),
    el('td', link.similarity.toFixed(3)), el('td', link.reason), actions);
  return tr;
}

function byHand(id, overrides) {
  const items = [];
  for (const other of overrides.pins[id] || []) {
    items.push(el('li', `pinned: ${other} `).appendChild(action('Unpin', { action: 'unpin', article_id: id, other_id: other })).parentNode);
  }
  for (const pair of overrides.blocks.filter((p) => p.includes(id))) {
    const other = pair[0] === id ? pair[1] : pair[0];
    items.push(el('li', `blocked: ${other} `).appendChild(action('Unblock', { action: 'unblock', article_id: id, other_id: other })).parentNode);
  }
  for (const hidden of overrides.hide) {
    items.push(el('li', `hidden everywhere: ${hidden} `).appendChild(action('Unhide', { action: 'unhide', article_id: hidden })).parentNode);
  }
  $('by-hand').replaceChildren(...items);
}

async function audit() {
  try {
    const report = await api('/audit');
    const box = $('audit-result');
    const open = (id, text) => {
      const button = el('button', text, { type: 'button' });
      button.dataset.id = id;
      button.addEventListener('click', () => { subject = { article_id: id, title: '' }; show(); });
      return el('li').appendChild(button).parentNode;
    };
    const orphans = el('ul');
    orphans.append(...report.orphans.slice(0, 20).map((a) => open(a, a)));
    const exposed = el('ul');
    exposed.append(...report.most_exposed.map((e) => open(e.article_id, `${e.article_id}: ${e.lists} lists`)));
    box.replaceChildren(el('h3', `Orphans (${report.orphans.length})`), orphans, el('h3', 'Most exposed'), exposed);
  } catch (error) { say(error.message); }
}

let timer = null;
$('search').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 200); });
$('controls').addEventListener('change', show);
$('audit').addEventListener('click', audit);
health().then(search).catch((error) => say(error.message));
"""
