// The Sluice console: the admin API, seen live. Plain browser JavaScript, served by the service itself.
// Every value from the server goes into the page as text (textContent), never as HTML.
const TOKEN_KEY = 'sluice-admin-token';
const HISTORY_MS = 5 * 60 * 1000;
const COLORS = ['#1a73e8', '#e8710a', '#188038', '#a142f4', '#d01884', '#12b5cb'];

const $ = (id) => document.getElementById(id);
const el = (tag, { dataset = {}, ...props } = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset); // dataset itself cannot be assigned
  for (const child of children) node.append(child);
  return node;
};

let token = sessionStorage.getItem(TOKEN_KEY);
let feed; // AbortController of the live feed
const lagHistory = new Map(); // projection → [[time, lagMs], …]
const rebuilds = new Map(); // projection → generation asked for

const api = async (path, init = {}) => {
  const response = await fetch(path, {
    ...init,
    headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` },
  });
  if (response.status === 401) {
    logout('That is not the admin token.');
    throw new Error('unauthorized');
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(problem.detail ?? `${response.status} ${response.statusText}`);
  }
  return response;
};

// ── log in and out ────────────────────────────────────────────────────────────────────────────────
const logout = (message = '') => {
  feed?.abort();
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $('console').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('connection').textContent = 'not connected';
};

const open = () => {
  $('login').hidden = true;
  $('console').hidden = false;
  $('logout').hidden = false;
  followFeed();
};

// ── the live feed: projections and new events ────────────────────────────────────────────────────
/** Reads /admin/feed with fetch (EventSource cannot send the bearer header); reconnects after a pause. */
const followFeed = async () => {
  feed?.abort();
  const controller = new AbortController();
  feed = controller;
  while (!controller.signal.aborted) {
    try {
      const response = await api('/admin/feed', { signal: controller.signal });
      $('connection').textContent = 'live';
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          onMessage(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (controller.signal.aborted || error.message === 'unauthorized') return;
      console.warn('console feed:', error);
    }
    $('connection').textContent = 'reconnecting…';
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
};

const onMessage = (block) => {
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (event === 'projections') showProjections(JSON.parse(data));
  else if (event === 'events') showNewEvents(JSON.parse(data));
  else if (event === 'problem') $('connection').textContent = `problem: ${JSON.parse(data).detail}`;
};

const showProjections = (rows) => {
  const now = Date.now();
  const body = $('projections').tBodies[0];
  body.replaceChildren(
    ...rows.map((row) => {
      const history = lagHistory.get(row.name) ?? [];
      history.push([now, row.lagMs]);
      while (history.length > 0 && history[0][0] < now - HISTORY_MS) history.shift();
      lagHistory.set(row.name, history);

      const asked = rebuilds.get(row.name);
      if (asked !== undefined && row.generation >= asked && row.status !== 'rebuilding')
        rebuilds.delete(row.name);
      const status =
        row.rebuildGeneration !== undefined
          ? `rebuilding g${row.rebuildGeneration}: ${row.rebuildCheckpoint} of ${row.headPosition}`
          : rebuilds.has(row.name)
            ? `rebuild asked (g${rebuilds.get(row.name)})`
            : row.status;
      const cells = [
        el('td', { textContent: row.name }),
        el('td', { textContent: status, className: `status-${row.status}`, title: row.lastError ?? '' }),
        el('td', { textContent: `g${row.generation}`, className: 'num' }),
        el('td', { textContent: row.checkpoint, className: 'num' }),
        el('td', { textContent: row.headPosition, className: 'num' }),
        el('td', { textContent: String(row.lagEvents), className: 'num' }),
        el('td', { textContent: String(row.lagMs), className: `num${row.overAcceptableLag ? ' over' : ''}` }),
        el('td', { textContent: String(row.acceptableLagMs), className: 'num' }),
        el('td', { textContent: String(row.parked), className: 'num' }),
        el(
          'td',
          {},
          el('button', { textContent: 'Rebuild', onclick: () => rebuild(row.name) }),
          ' ',
          el('button', { textContent: 'Parked', onclick: () => showParked(row.name) }),
        ),
      ];
      return el('tr', { dataset: { projection: row.name } }, ...cells);
    }),
  );
  drawLag(now);
};

/** Lag of each projection over the last minutes as SVG polylines (no charting library needed). */
const drawLag = (now) => {
  const svg = $('lag-chart');
  const ns = 'http://www.w3.org/2000/svg';
  const node = (tag, attrs, text) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const [width, height, left, bottom] = [1200, 160, 40, 14];
  const max = Math.max(100, ...[...lagHistory.values()].flat().map(([, lag]) => lag));
  const x = (t) => left + ((t - (now - HISTORY_MS)) / HISTORY_MS) * (width - left - 4);
  const y = (lag) => height - bottom - (lag / max) * (height - bottom - 8);
  const children = [
    node('text', { x: 2, y: 12 }, `${max} ms`),
    node('text', { x: 2, y: height - bottom }, '0'),
    node('text', { x: left, y: height - 2 }, '5 min ago'),
    node('text', { x: width - 30, y: height - 2 }, 'now'),
  ];
  [...lagHistory.entries()].forEach(([name, points], i) => {
    const color = COLORS[i % COLORS.length];
    children.push(
      node('polyline', {
        fill: 'none',
        stroke: color,
        'stroke-width': 1.5,
        points: points.map(([t, lag]) => `${x(t).toFixed(1)},${y(lag).toFixed(1)}`).join(' '),
      }),
      node('text', { x: left + 8 + i * 160, y: 12, fill: color }, name),
    );
  });
  svg.replaceChildren(...children);
};

const eventItem = (event, withBody) =>
  el(
    'li',
    { dataset: { position: event.position } },
    el('strong', { textContent: event.type }),
    ' ',
    el('code', { textContent: `${event.stream}@${event.revision}` }),
    ' ',
    el('span', { className: 'muted', textContent: `position ${event.position} · ${event.recordedAt}` }),
    ...(withBody
      ? [
          el('pre', { className: 'data', textContent: JSON.stringify(event.data, null, 2) }),
          el('pre', { className: 'metadata', textContent: JSON.stringify(event.metadata, null, 2) }),
        ]
      : []),
  );

const showNewEvents = (events) => {
  const list = $('feed');
  list.prepend(...events.map((event) => eventItem(event, false)));
  while (list.children.length > 100) list.lastElementChild.remove();
};

// ── rebuilds and parked events ───────────────────────────────────────────────────────────────────
const rebuild = async (name) => {
  const { generation } = await (
    await api(`/admin/projections/${encodeURIComponent(name)}/rebuild`, { method: 'POST' })
  ).json();
  rebuilds.set(name, generation);
};

const showParked = async (name) => {
  $('parked').hidden = false;
  $('parked-name').textContent = name;
  $('replay').onclick = () => replay(name);
  const parked = await (await api(`/admin/projections/${encodeURIComponent(name)}/parked`)).json();
  $('parked-list').replaceChildren(
    ...(parked.length === 0
      ? [el('li', { className: 'muted', textContent: 'No parked events.' })]
      : parked.map((entry) =>
          el(
            'li',
            {},
            el('code', { textContent: `${entry.stream ?? ''} position ${entry.position}` }),
            ' ',
            el('span', { className: 'error', textContent: entry.error }),
          ),
        )),
  );
};

const replay = async (name) => {
  $('replay-outcome').textContent = 'replaying…';
  try {
    const outcome = await (
      await api(`/admin/projections/${encodeURIComponent(name)}/parked/replay`, { method: 'POST' })
    ).json();
    $('replay-outcome').textContent =
      `replayed ${outcome.replayed}, failed ${outcome.failed}, remaining ${outcome.remaining}`;
  } catch (error) {
    $('replay-outcome').textContent = error.message;
  }
  await showParked(name);
};

// ── stream browser ───────────────────────────────────────────────────────────────────────────────
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
let older; // loads the next (older) page of the current search

const search = async (query) => {
  const stream = UUID.test(query) ? `order-${query.toLowerCase()}` : query;
  const byStream = (before) =>
    `/admin/streams/${encodeURIComponent(stream)}/events?limit=20${before ? `&before=${before}` : ''}`;
  const byCorrelation = (before) =>
    `/admin/events?limit=20&correlationId=${encodeURIComponent(query)}${before ? `&before=${before}` : ''}`;
  let pageOf = byStream;
  let page = await (await api(byStream())).json();
  $('search-what').textContent = `stream ${stream}`;
  if (page.events.length === 0) {
    pageOf = byCorrelation;
    page = await (await api(byCorrelation())).json();
    $('search-what').textContent = `correlation id ${query}`;
  }
  $('results').replaceChildren(...page.events.map((event) => eventItem(event, true)));
  const more = (next) => {
    $('older').hidden = next === undefined;
    older = async () => {
      const nextPage = await (await api(pageOf(next))).json();
      $('results').append(...nextPage.events.map((event) => eventItem(event, true)));
      more(nextPage.next);
    };
  };
  more(page.next);
  if (page.events.length === 0) $('search-what').textContent = `nothing found for ${query}`;
};

// ── wiring ───────────────────────────────────────────────────────────────────────────────────────
document.addEventListener('DOMContentLoaded', () => {
  $('login').addEventListener('submit', async (event) => {
    event.preventDefault();
    token = $('token').value;
    try {
      await api('/admin/projections');
      sessionStorage.setItem(TOKEN_KEY, token);
      $('token').value = '';
      open();
    } catch (error) {
      if (error.message !== 'unauthorized') $('login-error').textContent = error.message;
    }
  });
  $('logout').addEventListener('click', () => logout());
  $('search').addEventListener('submit', (event) => {
    event.preventDefault();
    search($('query').value.trim()).catch((error) => {
      $('search-what').textContent = error.message;
    });
  });
  $('older').addEventListener('click', () => older?.());
  if (token) open();
});
