// The TaskService console: plain DOM, no framework and no build step, served by the service itself.
// Every text that comes from the server goes into the page as text (textContent, never innerHTML), so a task
// whose result is markup shows the markup; the Content-Security-Policy refuses inline script besides.

const TOKEN_KEY = 'taskservice-console-token';
const STATUSES = ['running', 'input_required', 'completed', 'failed'];
const view = document.getElementById('view');

/** The current page's handler of live task changes (the feed calls it). */
let onTask = () => {};
/** Ends what the current page keeps running (the replicas page's readings); called before any page is shown. */
let leavePage = () => {};
/** Ends the feed's wait before it reconnects (a token was just given). */
let reconnectNow = () => {};

// ---- small helpers ----------------------------------------------------------------------------------------

/** An element with attributes and children; strings become text nodes. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name in node && typeof value !== 'string') node[name] = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A table with its header row and a body of `rows`. */
function table(id, headers, rows) {
  return el(
    'table',
    { id },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((h) => el('th', {}, h)),
      ),
    ),
    rows,
  );
}

const time = (ms) => (ms ? new Date(ms).toLocaleString() : '');
const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

function showError(message) {
  const box = document.getElementById('error');
  box.textContent = message;
  box.hidden = !message;
}

/** Calls the console API; a 401 asks for a token, any other failure throws with the server's message. */
async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (token()) headers.authorization = `Bearer ${token()}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`api/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await res.json().catch(() => ({}));
  if (res.status === 401) {
    askForToken(answer.error);
    throw new Error(answer.error ?? 'a token is needed');
  }
  if (!res.ok) throw new Error(answer.error ?? `HTTP ${res.status}`);
  return answer;
}

/** Who the console acts as: asked once per token. */
let me;
function whoAmI() {
  me ??= api('me').then((answer) => {
    const who = document.getElementById('who');
    who.textContent = answer.name === 'anyone' ? '' : `as ${answer.name}`;
    return answer;
  });
  return me.catch((err) => {
    me = undefined;
    throw err;
  });
}

function askForToken(problem) {
  const form = document.getElementById('token-form');
  form.hidden = false;
  showError(problem ?? '');
}

// ---- the live feed ------------------------------------------------------------------------------------------

/**
 * Follows api/events (server-sent events, read with fetch so that the token goes in a header); reconnects. What
 * changed while it was away is not sent again, so after a reconnect, and on a `resync` event (the server's store
 * was unreachable), the page is read again.
 */
async function follow() {
  const live = document.getElementById('live');
  let delayMs = 1000;
  let connected = false;
  for (;;) {
    try {
      const headers = token() ? { authorization: `Bearer ${token()}` } : {};
      const res = await fetch('api/events', { headers });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      live.textContent = '● live';
      live.classList.add('on');
      delayMs = 1000;
      if (connected) void route();
      connected = true;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice(6))
            .join('\n');
          if (event.startsWith('event: task') && data) onTask(JSON.parse(data));
          else if (event.startsWith('event: resync')) void route();
        }
      }
    } catch {
      // Shown as offline below; tried again after the delay.
    }
    live.textContent = '○ offline';
    live.classList.remove('on');
    await new Promise((resolve) => {
      reconnectNow = resolve;
      setTimeout(resolve, delayMs);
    });
    delayMs = Math.min(delayMs * 2, 10_000);
  }
}

// ---- pages --------------------------------------------------------------------------------------------------

function statusCell(task) {
  return el('span', { class: `status status-${task.status}` }, task.status.replace('_', ' '));
}

function progressCell(task) {
  if (!task.progress) return '';
  return el(
    'span',
    {},
    el('progress', { max: 1, value: task.progress.fraction, title: task.progress.message }),
    ` ${Math.round(task.progress.fraction * 100)}% `,
    task.progress.message,
  );
}

function taskLink(task) {
  const user = task.userId ? `?user=${encodeURIComponent(task.userId)}` : '';
  return el('a', { href: `#/task/${encodeURIComponent(task.taskId)}${user}` }, task.taskId);
}

function taskRow(task) {
  return el(
    'tr',
    { 'data-task': task.taskId },
    el('td', { class: 'id' }, taskLink(task)),
    el('td', {}, task.toolName),
    el('td', {}, task.userId),
    el('td', { class: 'status-cell' }, statusCell(task)),
    el('td', { class: 'progress-cell' }, progressCell(task)),
    el('td', {}, time(task.createdAt)),
    el('td', { class: 'updated-cell' }, time(task.updatedAt)),
  );
}

async function tasksPage(params) {
  const filters = {
    user: params.get('user') ?? '',
    status: params.get('status') ?? '',
    tool: params.get('tool') ?? '',
  };
  // A token for several users lists one of them at a time: start with the first.
  const { users } = await whoAmI();
  if (!filters.user && users && users.length > 1) filters.user = users[0];
  const pageToken = params.get('page_token') ?? '';
  const query = new URLSearchParams({ ...filters, page_token: pageToken });
  const page = await api(`tasks?${query}`);
  const rows = el('tbody', {}, page.tasks.map(taskRow));
  const versions = new Map(page.tasks.map((t) => [t.taskId, t.version]));
  const go = (extra) => {
    location.hash = `#/tasks?${new URLSearchParams({ ...filters, ...extra })}`;
  };
  const form = el(
    'form',
    {
      class: 'filters',
      onsubmit: (e) => {
        e.preventDefault();
        const data = new FormData(e.target);
        location.hash = `#/tasks?${new URLSearchParams({ user: data.get('user'), status: data.get('status'), tool: data.get('tool') })}`;
      },
    },
    el(
      'label',
      {},
      'User',
      users
        ? el(
            'select',
            { name: 'user' },
            users.map((u) => el('option', { value: u, selected: u === filters.user }, u)),
          )
        : el('input', { name: 'user', value: filters.user }),
    ),
    el(
      'label',
      {},
      'Status',
      el(
        'select',
        { name: 'status' },
        el('option', { value: '' }, 'any'),
        STATUSES.map((s) => el('option', { value: s, selected: s === filters.status }, s.replace('_', ' '))),
      ),
    ),
    el('label', {}, 'Tool', el('input', { name: 'tool', value: filters.tool })),
    el('button', { type: 'submit' }, 'Filter'),
  );
  view.replaceChildren(
    form,
    table('tasks', ['Task', 'Tool', 'User', 'Status', 'Progress', 'Created', 'Updated'], rows),
    el(
      'div',
      { class: 'actions' },
      pageToken && el('button', { type: 'button', onclick: () => go({}) }, 'First page'),
      page.nextPageToken &&
        el('button', { type: 'button', onclick: () => go({ page_token: page.nextPageToken }) }, 'Next page'),
    ),
  );
  const matches = (task) =>
    (!filters.user || task.userId === filters.user) &&
    (!filters.status || task.status === filters.status) &&
    (!filters.tool || task.toolName === filters.tool);
  onTask = (task) => {
    const known = versions.get(task.taskId);
    if (known !== undefined && known >= task.version) return;
    const row = rows.querySelector(`tr[data-task="${CSS.escape(task.taskId)}"]`);
    if (row) {
      versions.set(task.taskId, task.version);
      row.replaceWith(taskRow(task));
    } else if (!pageToken && matches(task)) {
      // Newest first: a task new to this page goes on top.
      versions.set(task.taskId, task.version);
      rows.prepend(taskRow(task));
    }
  };
}

/** JSON text indented for reading; as it is if it does not parse. */
function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function field(name, value) {
  if (value === undefined || value === null || value === '' || value === false) return [];
  return [el('dt', {}, name), el('dd', {}, value)];
}

/** A form for the tool's question, built from its JSON Schema: a field per property, else one JSON text box. */
function answerForm(task, user, after) {
  const question = task.inputRequest;
  let schema = {};
  try {
    schema = JSON.parse(question.schemaJson || '{}');
  } catch {
    schema = {};
  }
  const properties = schema.type === 'object' && schema.properties ? Object.entries(schema.properties) : undefined;
  const inputs = properties
    ? properties.map(([name, spec]) => {
        const label = spec.title ?? name;
        if (Array.isArray(spec.enum)) {
          return el(
            'label',
            {},
            label,
            el(
              'select',
              { name },
              spec.enum.map((v) => el('option', { value: v }, v)),
            ),
          );
        }
        if (spec.type === 'boolean') return el('label', {}, label, el('input', { name, type: 'checkbox' }));
        const type = spec.type === 'number' || spec.type === 'integer' ? 'number' : 'text';
        return el('label', {}, label, el('input', { name, type, step: spec.type === 'number' ? 'any' : undefined }));
      })
    : [el('label', {}, 'Answer (JSON)', el('textarea', { name: 'json', rows: 4 }))];
  return el(
    'form',
    {
      class: 'answer',
      onsubmit: async (e) => {
        e.preventDefault();
        let response;
        if (properties) {
          response = {};
          for (const [name, spec] of properties) {
            const input = e.target.elements[name];
            if (spec.type === 'boolean') response[name] = input.checked;
            else if (input.value === '') continue;
            else if (spec.type === 'number' || spec.type === 'integer') response[name] = Number(input.value);
            else response[name] = input.value;
          }
        } else {
          try {
            response = JSON.parse(e.target.elements.json.value);
          } catch {
            showError('the answer must be JSON');
            return;
          }
        }
        try {
          await api(`tasks/${encodeURIComponent(task.taskId)}/input`, {
            method: 'POST',
            body: { user, inputRequestId: question.id, response },
          });
          showError('');
          after();
        } catch (err) {
          showError(err.message);
        }
      },
    },
    el('strong', {}, 'The tool asks: '),
    el('p', { class: 'question' }, question.message),
    inputs,
    el('button', { type: 'submit' }, 'Answer'),
  );
}

async function taskPage(taskId, params) {
  const user = params.get('user') ?? '';
  const { task } = await api(`tasks/${encodeURIComponent(taskId)}?${new URLSearchParams({ user })}`);
  // The tool's output, read as it grows (the feed says how many bytes there are; this reads what is new).
  const output = el('pre', { id: 'output', class: 'output' });
  let outputAt = 0;
  let outputWanted = 0;
  let reading = false;
  const readOutput = async () => {
    if (reading) return;
    reading = true;
    try {
      while (outputAt < outputWanted) {
        const piece = await api(
          `tasks/${encodeURIComponent(taskId)}/output?${new URLSearchParams({ user, offset: String(outputAt) })}`,
        );
        if (!piece.text) break;
        output.append(piece.text);
        outputAt = piece.next;
      }
    } catch (err) {
      showError(err.message);
    } finally {
      reading = false;
    }
  };
  const render = (t) => {
    const open = t.status === 'running' || t.status === 'input_required';
    const redirect = t.redirect;
    view.replaceChildren(
      el('p', {}, el('a', { href: '#/tasks' }, '← all tasks')),
      el('h2', {}, t.toolName, ' ', statusCell(t)),
      el(
        'dl',
        { id: 'task' },
        field('Task', t.taskId),
        field('Status', statusCell(t)),
        field('Failure reason', t.failureReason),
        field('Error', t.error && el('pre', {}, t.error)),
        field('Result', t.result !== undefined && t.result !== '' && el('pre', { class: 'result' }, t.result)),
        field('Progress', progressCell(t)),
        field('User', t.userId),
        field('Channel', t.channelId && `${t.platform}:${t.channelId}`),
        field('Request id', t.requestId),
        field('Created', time(t.createdAt)),
        field('Updated', time(t.updatedAt)),
        field('Finished', time(t.finishedAt)),
        field('Output', t.outputBytes && `${t.outputBytes} bytes${t.outputTruncated ? ' (truncated)' : ''}`),
        field('', t.outputBytes && output),
        field(
          'Redirect',
          redirect &&
            `${redirect.platform}:${redirect.channelId}, ${redirect.state}, ${redirect.attempts} attempt(s)` +
              (redirect.lastError ? `, last error: ${redirect.lastError}` : ''),
        ),
        field('Replica', t.owner),
        field('Version', t.version),
        field(
          'Arguments',
          t.argumentsJson === undefined
            ? 'not shown: the server keeps them only with TASKSERVICE_LOG_TOOL_ARGUMENTS=true'
            : el('pre', { class: 'arguments' }, prettyJson(t.argumentsJson)),
        ),
      ),
      t.status === 'input_required' && t.inputRequest && answerForm(t, user, () => undefined),
      open &&
        el(
          'div',
          { class: 'actions' },
          el(
            'button',
            {
              type: 'button',
              id: 'cancel',
              onclick: async () => {
                try {
                  const answer = await api(`tasks/${encodeURIComponent(t.taskId)}/cancel`, {
                    method: 'POST',
                    body: { user },
                  });
                  showError('');
                  show(answer.task);
                } catch (err) {
                  showError(err.message);
                }
              },
            },
            'Cancel task',
          ),
        ),
    );
  };
  let version = -1;
  const show = (t) => {
    if (t.version <= version) return;
    version = t.version;
    render(t);
    outputWanted = Math.max(outputWanted, t.outputBytes ?? 0);
    // A read under way goes on to the new end itself (its loop reads outputWanted again).
    void readOutput();
  };
  show(task);
  onTask = (t) => {
    if (t.taskId === taskId) show(t);
  };
}

async function toolsPage() {
  const { tools } = await api('tools');
  const headers = [
    'Tool',
    'Source',
    'Workers',
    'At once per worker',
    'Budget s',
    'Hard limit s',
    'Background',
    'Available',
    'Description',
  ];
  view.replaceChildren(
    table(
      'tools',
      headers,
      el(
        'tbody',
        {},
        tools.map((t) =>
          el(
            'tr',
            {},
            el('td', {}, t.name),
            el('td', {}, t.source),
            el('td', {}, t.source === 'worker' ? t.workers : ''),
            el('td', {}, t.concurrency === undefined ? '' : t.concurrency === 0 ? 'no limit' : t.concurrency),
            el('td', {}, t.budgetSeconds),
            el('td', {}, t.hardTimeoutSeconds),
            el('td', {}, t.noBackground ? 'never' : 'yes'),
            el('td', {}, t.available ? 'yes' : `no: ${t.unavailableReason}`),
            el('td', {}, t.description),
          ),
        ),
      ),
    ),
  );
}

/** The per-second rates and Execute latency between two readings of api/stats. */
function rates(before, after) {
  const seconds = (after.at - before.at) / 1000;
  const counts = after.executeSeconds.counts.map((n, i) => n - before.executeSeconds.counts[i]);
  const calls = counts.reduce((a, b) => a + b, 0);
  /** The upper bound of the bucket holding quantile q, in ms (a histogram's resolution). */
  const quantile = (q) => {
    if (calls === 0) return 0;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= q * calls) return (after.executeSeconds.bounds[i] ?? after.executeSeconds.bounds.at(-1)) * 1000;
    }
    return 0;
  };
  return {
    started: (after.tasksStarted - before.tasksStarted) / seconds,
    finished: (after.runsFinished - before.runsFinished) / seconds,
    p50: quantile(0.5),
    p99: quantile(0.99),
  };
}

const SVG = 'http://www.w3.org/2000/svg';

/** A small line chart of `values` (newest last), with its title and latest value. */
function chart(title, values, unit) {
  const width = 240;
  const height = 60;
  // A quarter of headroom: a steady value draws below the top edge.
  const max = 1.25 * Math.max(1e-9, ...values);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'chart');
  const line = document.createElementNS(SVG, 'polyline');
  const step = values.length > 1 ? width / (values.length - 1) : width;
  line.setAttribute('points', values.map((v, i) => `${i * step},${height - 2 - (v / max) * (height - 4)}`).join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#2f6fde');
  line.setAttribute('stroke-width', '2');
  svg.append(line);
  const latest = values.length ? values.at(-1) : 0;
  return el('figure', {}, el('figcaption', {}, `${title}: ${latest.toFixed(1)} ${unit}`), svg);
}

/** The replicas page's charts: title, the rate it draws (see `rates`), unit. */
const CHARTS = [
  ['Tasks started', 'started', '/s'],
  ['Tool runs finished', 'finished', '/s'],
  ['Execute p50', 'p50', 'ms'],
  ['Execute p99', 'p99', 'ms'],
];

async function replicasPage() {
  const readings = [];
  const charts = el('div', { class: 'charts', id: 'charts' });
  const drawCharts = () => {
    const series = readings.slice(1).map((r, i) => rates(readings[i], r));
    charts.replaceChildren(
      el('h3', {}, `This replica (${readings.at(-1)?.instanceId ?? ''}), every 2 s`),
      ...CHARTS.map(([title, key, unit]) =>
        chart(
          title,
          series.map((s) => s[key]),
          unit,
        ),
      ),
    );
  };
  const sample = async () => {
    readings.push(await api('stats'));
    if (readings.length > 61) readings.shift();
    drawCharts();
  };
  const render = ({ self, leaseSeconds, replicas }) => {
    view.replaceChildren(
      table(
        'replicas',
        ['Replica', 'Running tasks', 'Last lease renewal'],
        el(
          'tbody',
          {},
          replicas.map((r) =>
            el(
              'tr',
              {},
              el('td', {}, r.instanceId, r.instanceId === self ? ' (this one)' : ''),
              el('td', {}, r.running),
              el(
                'td',
                {},
                leaseSeconds
                  ? `${Math.max(0, Math.round((Date.now() - (r.leaseExpiresAt - leaseSeconds * 1000)) / 1000))} s ago`
                  : 'no lease (memory store: a single replica)',
              ),
            ),
          ),
        ),
      ),
      charts,
    );
  };
  // Leases are renewed every few seconds, not announced, and the counters only grow: the page reads both again
  // while it is shown, and stops when another page is shown (set before the first reads, which may outlast it).
  let ticks = 0;
  const timer = setInterval(async () => {
    try {
      await sample();
      if (++ticks % 3 === 0) render(await api('replicas'));
    } catch (err) {
      showError(err.message);
    }
  }, 2000);
  leavePage = () => clearInterval(timer);
  render(await api('replicas'));
  await sample();
}

// ---- routing ------------------------------------------------------------------------------------------------

async function route() {
  const [path, query = ''] = (location.hash.slice(1) || '/tasks').split('?');
  const params = new URLSearchParams(query);
  const [, page, id] = path.split('/');
  for (const link of document.querySelectorAll('nav a')) {
    link.classList.toggle('current', link.dataset.page === (page === 'task' ? 'tasks' : page));
  }
  onTask = () => {};
  leavePage();
  leavePage = () => {};
  try {
    await whoAmI();
    if (page === 'task' && id) await taskPage(decodeURIComponent(id), params);
    else if (page === 'tools') await toolsPage();
    else if (page === 'replicas') await replicasPage();
    else await tasksPage(params);
    showError('');
  } catch (err) {
    showError(err.message);
  }
}

document.getElementById('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value);
  e.target.hidden = true;
  document.getElementById('forget-token').hidden = false;
  reconnectNow();
  me = undefined;
  void route();
});
document.getElementById('forget-token').addEventListener('click', (e) => {
  sessionStorage.removeItem(TOKEN_KEY);
  me = undefined;
  document.getElementById('who').textContent = '';
  e.target.hidden = true;
  void route();
});
document.getElementById('forget-token').hidden = !token();
window.addEventListener('hashchange', () => void route());
void route();
void follow();
