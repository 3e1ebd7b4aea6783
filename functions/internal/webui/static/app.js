// Lazyflow's browser UI. Everything is read and changed through the public
// JSON API (the same routes curl uses); the only other request is the
// workflow graph, drawn server-side as SVG with one <g data-task="NAME"> per
// task, which this script colours by state.
"use strict";

const API = document.documentElement.dataset.api || "";
const FINAL = new Set(["SUCCESS", "ERROR", "CANCELLED"]);
const STATES = ["IDLE", "WAITING", "RUNNING", "RUNNING_DELAYED", "PAUSED", "SUCCESS", "ERROR", "CANCELLED"];
const app = document.getElementById("app");
let timer = null; // the page's live refresh

// h builds an element: h("a", {href: "/x"}, "text", child...). Text is
// always set as text, never parsed as HTML.
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...present(kids));
  return el;
}

// present flattens nested child lists and drops the absent ones.
function present(kids) {
  return kids.flat(Infinity).filter((k) => k !== undefined && k !== null && k !== false)
    .map((k) => (k instanceof Node ? k : String(k)));
}

// fill replaces el's children, taking what h takes.
function fill(el, ...kids) {
  el.replaceChildren(...present(kids));
}

// ApiError carries the API's {"error": {...}} shape.
class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || "HTTP " + status);
    this.status = status;
    this.code = e.code;
    this.problems = e.problems || [];
  }
}

async function api(method, path, body, contentType) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = contentType || "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const resp = await fetch(API + path, init);
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

const enc = encodeURIComponent;
const badge = (state) => h("span", { class: "badge st-" + state, "data-state": state }, state);
const time = (t) => (t ? new Date(t).toLocaleString() : "");
const json = (v) => h("pre", {}, JSON.stringify(v, null, 2));

function duration(from, to) {
  if (!from) return "";
  const ms = (to ? new Date(to) : new Date()) - new Date(from);
  if (ms < 1000) return ms + " ms";
  if (ms < 120000) return (ms / 1000).toFixed(1) + " s";
  return Math.round(ms / 60000) + " min";
}

function errorBox(err) {
  const many = err.problems && err.problems.length;
  // The message repeats every problem on one line; the list is easier to read.
  const head = many ? `The definition has ${err.problems.length} problem(s), at line:column:` : err.message;
  const box = h("div", { class: "errors", role: "alert" }, h("strong", {}, head));
  if (many) {
    box.append(h("ul", { class: "problems" }, err.problems.map((p) =>
      h("li", { "data-line": p.line, "data-column": p.column }, `${p.line}:${p.column} `, p.message))));
  }
  return box;
}

function live(fn, ms) {
  stopLive();
  timer = setInterval(() => fn().catch((e) => console.error(e)), ms);
}
function stopLive() {
  if (timer) clearInterval(timer);
  timer = null;
}

async function graphSVG(workflow) {
  const resp = await fetch(API + "/ui/api/graph/" + enc(workflow) + ".svg");
  if (!resp.ok) return h("p", { class: "errors" }, "graph unavailable: " + (await resp.text()));
  const holder = h("div", { class: "graph" });
  holder.innerHTML = await resp.text(); // our own server's SVG; every name in it is escaped
  return holder;
}

function legend() {
  const item = (c, dash, label) => h("span", {}, h("i", { style: `border-color:${c};border-top-style:${dash}` }), label);
  return h("div", { class: "legend muted" }, item("#2e7d32", "solid", "on-success"), item("#c62828", "solid", "on-error"),
    item("#7b8794", "dashed", "on-complete"), item("#3f51b5", "solid", "requires"), item("#7b8794", "dotted", "closes a cycle"));
}

// ------------------------------------------------------------ index page

async function indexPage() {
  const params = new URLSearchParams(location.search);
  const state = { workflow: params.get("workflow") || "", state: params.get("state") || "", cursors: [""], page: 0 };
  const wfList = h("ul", { class: "plain", id: "workflows" });
  const wfSelect = h("select", { id: "filter-workflow", onchange: () => { state.workflow = wfSelect.value; reset(); } },
    h("option", { value: "" }, "all workflows"));
  const stSelect = h("select", { id: "filter-state", onchange: () => { state.state = stSelect.value; reset(); } },
    h("option", { value: "" }, "any state"), STATES.map((s) => h("option", { value: s }, s)));
  stSelect.value = state.state;
  const rows = h("tbody", { id: "executions" });
  const prev = h("button", { onclick: () => { state.page--; load(); } }, "‹ Newer");
  const next = h("button", { onclick: () => { state.page++; load(); } }, "Older ›");
  const liveBox = h("input", { type: "checkbox", id: "live", checked: true, onchange: () => (liveBox.checked ? live(load, 3000) : stopLive()) });

  const src = h("textarea", { id: "definition", rows: 12, spellcheck: "false",
    placeholder: "version: '2.0'\nmy_workflow:\n  tasks:\n    hello:\n      action: std.echo output=hi" });
  const result = h("div", { id: "register-result" });
  const register = async () => {
    fill(result);
    try {
      const out = await api("POST", "/workflows", src.value, "text/yaml");
      result.append(h("div", { class: "ok" }, "Registered: ",
        out.workflows.map((w, i) => [i ? ", " : "", h("a", { href: "/ui/workflows/" + enc(w.name) }, w.name)]),
        (out.warnings || []).map((w) => h("div", { class: "muted" }, "warning: " + w))));
      loadWorkflows();
    } catch (e) {
      result.append(errorBox(e));
    }
  };

  fill(app, h("div", { class: "cols" },
    h("section", {},
      h("div", { class: "card" }, h("h2", {}, "Workflows"), wfList),
      h("div", { class: "card" }, h("h2", {}, "Register a workflow"), src,
        h("p", {}, h("button", { class: "primary", id: "register", onclick: register }, "Register")), result)),
    h("section", { class: "card" }, h("h1", {}, "Executions"),
      h("div", { class: "toolbar" }, wfSelect, stSelect, h("label", {}, liveBox, " live refresh"), prev, next),
      h("table", {}, h("thead", {}, h("tr", {}, ["execution", "workflow", "state", "started", "updated"].map((c) => h("th", {}, c)))), rows))));
  app.dataset.page = "index";

  async function loadWorkflows() {
    const out = await api("GET", "/workflows");
    fill(wfList, ...(out.workflows.length ? out.workflows.map((w) =>
      h("li", {}, h("a", { href: "/ui/workflows/" + enc(w.name) }, w.name), " ", h("span", { class: "muted" }, time(w.updated))))
      : [h("li", { class: "muted" }, "None yet: register one below, or POST /workflows.")]));
    fill(wfSelect, h("option", { value: "" }, "all workflows"), out.workflows.map((w) => h("option", { value: w.name }, w.name)));
    wfSelect.value = state.workflow;
  }
  function reset() {
    state.cursors = [""];
    state.page = 0;
    const q = new URLSearchParams();
    if (state.workflow) q.set("workflow", state.workflow);
    if (state.state) q.set("state", state.state);
    history.replaceState(null, "", "/ui/" + (q.toString() ? "?" + q : ""));
    load();
  }
  async function load() {
    const q = new URLSearchParams({ limit: "20" });
    if (state.workflow) q.set("workflow", state.workflow);
    if (state.state) q.set("state", state.state);
    if (state.cursors[state.page]) q.set("cursor", state.cursors[state.page]);
    const out = await api("GET", "/executions?" + q);
    state.cursors[state.page + 1] = out.next_cursor || "";
    prev.disabled = state.page === 0;
    next.disabled = !out.next_cursor;
    fill(rows, ...(out.executions.length ? out.executions.map((e) => h("tr", { "data-id": e.id },
      h("td", { class: "id" }, h("a", { href: "/ui/executions/" + enc(e.id) }, e.id)),
      h("td", {}, h("a", { href: "/ui/workflows/" + enc(e.workflow) }, e.workflow)),
      h("td", {}, badge(e.state)), h("td", {}, time(e.created)), h("td", {}, time(e.updated))))
      : [h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No executions."))]));
  }
  await Promise.all([loadWorkflows(), load()]);
  live(load, 3000);
  app.dataset.ready = "true";
}

// ------------------------------------------------------------ workflow page

async function workflowPage(name) {
  const wf = await api("GET", "/workflows/" + enc(name));
  const input = h("textarea", { id: "input", rows: 5, spellcheck: "false" }, "{}");
  const result = h("div", { id: "start-result" });
  const start = async () => {
    fill(result);
    let parsed;
    try { parsed = JSON.parse(input.value || "{}"); } catch (e) {
      result.append(errorBox(new Error("input is not valid JSON: " + e.message)));
      return;
    }
    try {
      const e = await api("POST", "/executions", { workflow: name, input: parsed });
      location.href = "/ui/executions/" + enc(e.id);
    } catch (e) {
      result.append(errorBox(e));
    }
  };
  const lines = wf.source.split("\n");
  const src = h("pre", { class: "src", id: "source" }, lines.map((l, i) => [h("span", { class: "ln" }, i + 1), l + "\n"]));
  const recent = h("tbody", { id: "recent" });
  fill(app, h("h1", {}, "Workflow ", h("span", { id: "workflow-name" }, wf.name)),
    h("div", { class: "wide" },
      h("section", {}, h("div", { class: "card" }, legend(), await graphSVG(name)),
        h("div", { class: "card" }, h("h2", {}, "Start an execution"), h("label", { for: "input" }, "Input (JSON object)"), input,
          h("p", {}, h("button", { class: "primary", id: "start", onclick: start }, "Start")), result),
        h("div", { class: "card" }, h("h2", {}, "Recent executions"), h("table", {}, recent))),
      h("section", { class: "card" }, h("h2", {}, "Definition"), h("p", { class: "muted" }, "updated " + time(wf.updated)), src)));
  const out = await api("GET", "/executions?limit=10&workflow=" + enc(name));
  fill(recent, ...out.executions.map((e) => h("tr", {},
    h("td", { class: "id" }, h("a", { href: "/ui/executions/" + enc(e.id) }, e.id)), h("td", {}, badge(e.state)), h("td", {}, time(e.created)))));
  app.dataset.page = "workflow";
  app.dataset.ready = "true";
}

// ------------------------------------------------------------ execution page

// summarise folds a task's runs (a cycle runs it again as name#2, ...) into
// what its node shows: the latest run's state and the counts.
function summarise(runs) {
  const last = runs[runs.length - 1];
  const parts = [last.state];
  if (last.items) parts.push(`${last.items_done || 0}/${last.items} items` + (last.items_failed ? `, ${last.items_failed} failed` : ""));
  if (last.attempt > 1) parts.push(`attempt ${last.attempt}`);
  if (runs.length > 1) parts.push(`×${runs.length} runs`);
  return { state: last.state, text: parts.join(" · ") };
}

async function executionPage(id) {
  let exec = await api("GET", "/executions/" + enc(id));
  let selected = null;
  const head = h("div", { class: "card", id: "exec-head" });
  const graphCard = h("div", { class: "card" }, legend(), await graphSVG(exec.workflow));
  const details = h("div", { class: "card", id: "task-details" }, h("p", { class: "muted" }, "Click a task for its details."));
  const taskRows = h("tbody", { id: "tasks" });
  const subs = h("ul", { class: "plain", id: "sub-executions" });
  const io = h("div", { id: "exec-io" });
  const msg = h("div", { id: "control-result" });

  const control = (op) => async () => {
    fill(msg);
    try {
      await api("POST", `/executions/${enc(id)}/${op}`);
      await refresh();
    } catch (e) {
      msg.append(errorBox(e));
    }
  };
  const rerun = (taskID) => async () => {
    fill(msg);
    try {
      await api("POST", "/tasks/" + enc(taskID) + "/rerun");
      await refresh();
    } catch (e) {
      msg.append(errorBox(e));
    }
  };
  const buttons = {
    pause: h("button", { id: "pause", onclick: control("pause") }, "Pause"),
    resume: h("button", { id: "resume", onclick: control("resume") }, "Resume"),
    cancel: h("button", { id: "cancel", class: "danger", onclick: control("cancel") }, "Cancel"),
  };

  fill(app, h("h1", {}, "Execution ", h("span", { class: "id" }, id)), head,
    h("div", { class: "wide" },
      h("section", {}, graphCard, h("div", { class: "card" }, h("h2", {}, "Tasks"),
        h("table", {}, h("thead", {}, h("tr", {}, ["task", "state", "attempt", "items", "started", "took", ""].map((c) => h("th", {}, c)))), taskRows))),
      h("section", {}, details, h("div", { class: "card" }, h("h2", {}, "Sub-executions"), subs), io)));

  graphCard.addEventListener("click", (ev) => {
    const node = ev.target.closest("g[data-task]");
    if (!node || ev.target.closest("a")) return;
    selected = node.dataset.task;
    draw();
  });

  function runsByName() {
    const m = new Map();
    for (const t of exec.tasks || []) {
      if (!m.has(t.name)) m.set(t.name, []);
      m.get(t.name).push(t);
    }
    return m;
  }

  function draw() {
    fill(head,
      h("dl", { class: "kv" },
        h("dt", {}, "workflow"), h("dd", {}, h("a", { href: "/ui/workflows/" + enc(exec.workflow) }, exec.workflow)),
        h("dt", {}, "state"), h("dd", { id: "exec-state" }, badge(exec.state)),
        exec.state_info ? [h("dt", {}, "state info"), h("dd", {}, exec.state_info)] : null,
        exec.parent ? [h("dt", {}, "parent"), h("dd", {}, h("a", { href: "/ui/executions/" + enc(exec.parent) }, exec.parent), " (task " + (exec.parent_task || "") + ")")] : null,
        h("dt", {}, "started"), h("dd", {}, time(exec.created), FINAL.has(exec.state) ? " · took " + duration(exec.created, exec.updated) : " · running for " + duration(exec.created))),
      h("p", {}, buttons.pause, buttons.resume, buttons.cancel), msg);
    buttons.pause.disabled = exec.state !== "RUNNING";
    buttons.resume.disabled = exec.state !== "PAUSED";
    buttons.cancel.disabled = exec.state !== "RUNNING" && exec.state !== "PAUSED";

    const runs = runsByName();
    for (const node of graphCard.querySelectorAll("g[data-task]")) {
      const rs = runs.get(node.dataset.task);
      for (const c of [...node.classList]) if (c.startsWith("state-")) node.classList.remove(c);
      node.classList.toggle("selected", node.dataset.task === selected);
      const label = node.querySelector(".lf-state");
      if (!rs) {
        if (label) label.textContent = "not run";
        node.removeAttribute("data-state");
        continue;
      }
      const s = summarise(rs);
      node.classList.add("state-" + s.state);
      node.dataset.state = s.state;
      if (label) label.textContent = s.text;
    }

    fill(taskRows, ...(exec.tasks || []).map((t) => h("tr", { "data-task": t.name, "data-key": t.key },
      h("td", {}, h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); selected = t.name; draw(); } }, t.key)),
      h("td", {}, badge(t.state)), h("td", {}, t.attempt), h("td", {}, t.items ? `${t.items_done || 0}/${t.items}` : ""),
      h("td", {}, time(t.started)), h("td", {}, duration(t.started, t.finished)),
      h("td", {}, t.state === "ERROR" && exec.state === "ERROR" ? h("button", { onclick: rerun(t.id) }, "Rerun") : null))));

    if (selected) {
      const rs = runs.get(selected) || [];
      fill(details, h("h2", {}, "Task ", selected),
        rs.length ? rs.map((t) => h("div", {},
          h("dl", { class: "kv" },
            h("dt", {}, "run"), h("dd", {}, t.key), h("dt", {}, "state"), h("dd", {}, badge(t.state)),
            t.state_info ? [h("dt", {}, "state info"), h("dd", {}, t.state_info)] : null,
            t.waiting_for ? [h("dt", {}, "waiting for"), h("dd", {}, t.waiting_for)] : null,
            h("dt", {}, "attempt"), h("dd", {}, t.attempt),
            t.items ? [h("dt", {}, "items"), h("dd", {}, `${t.items_done || 0} done, ${t.items_failed || 0} failed of ${t.items}`)] : null,
            h("dt", {}, "started"), h("dd", {}, time(t.started)),
            h("dt", {}, "finished"), h("dd", {}, t.finished ? time(t.finished) + " (" + duration(t.started, t.finished) + ")" : "")),
          t.published ? [h("h2", {}, "published"), json(t.published)] : null,
          t.result !== undefined ? [h("h2", {}, "result"), json(t.result)] : null,
          t.state === "ERROR" && exec.state === "ERROR" ? h("p", {}, h("button", { onclick: rerun(t.id) }, "Rerun this task")) : null))
          : h("p", { class: "muted" }, "This task has not run."));
    }
    fill(io, h("div", { class: "card" }, h("h2", {}, "Input"), json(exec.input || {})),
      exec.output !== undefined ? h("div", { class: "card" }, h("h2", {}, "Output"), json(exec.output)) : null);
  }

  // Sub-executions name this one as their parent; they are found through
  // the list of each sub-workflow the graph shows.
  async function loadSubs() {
    const names = new Set([...graphCard.querySelectorAll("g[data-workflow]")].map((g) => g.dataset.workflow));
    const found = [];
    for (const wf of names) {
      const out = await api("GET", "/executions?limit=100&workflow=" + enc(wf));
      for (const e of out.executions) if (e.parent === id) found.push(e);
    }
    fill(subs, ...(found.length ? found.map((e) => h("li", {},
      h("a", { href: "/ui/executions/" + enc(e.id) }, e.id), " ", e.workflow, " (task " + (e.parent_task || "") + ") ", badge(e.state)))
      : [h("li", { class: "muted" }, "None.")]));
  }

  async function refresh() {
    exec = await api("GET", "/executions/" + enc(id));
    draw();
    await loadSubs();
    if (FINAL.has(exec.state)) stopLive();
  }

  draw();
  await loadSubs();
  if (!FINAL.has(exec.state)) live(refresh, 1500);
  app.dataset.page = "execution";
  app.dataset.ready = "true";
}

// ------------------------------------------------------------ router

async function route() {
  const path = location.pathname;
  let m;
  try {
    if ((m = path.match(/^\/ui\/workflows\/([^/]+)$/))) await workflowPage(decodeURIComponent(m[1]));
    else if ((m = path.match(/^\/ui\/executions\/([^/]+)$/))) await executionPage(decodeURIComponent(m[1]));
    else await indexPage();
  } catch (e) {
    fill(app, errorBox(e), h("p", {}, h("a", { href: "/ui/" }, "Back to the list")));
    app.dataset.ready = "error";
  }
}

route();
