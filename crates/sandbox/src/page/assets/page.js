// The channel page: one live feed per person (server-sent events opening with a
// snapshot), messages keyed by `ts` so repeats and edits apply in place, a thread
// pane, the composer, and the world panel.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  setup: null,
  user: null,
  feed: null,
  // Every message the channel knows, by ts: {message, kind}.
  messages: new Map(),
  // Each parent's replies, by the parent's ts, in order.
  threads: new Map(),
  // The thread pane's parent ts, when open.
  open: null,
  // Whether the Home tab is shown instead of #deploys.
  home: false,
  // The Home view drawn last (its id and blocks, as JSON), so a republish of the same
  // view is not drawn again.
  homeDrawn: null,
};

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const userName = (id) => {
  const known = [state.setup.bot, ...state.setup.people].find((person) => person.id === id);
  return known ? known.name : id;
};

const clock = (ts) =>
  new Date(parseFloat(ts) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

async function api(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* axum's own refusals are plain text */ }
  if (!response.ok) throw new Error((json && json.error) || text || response.statusText);
  return json;
}

// --- Rendering one message -------------------------------------------------

// kind: "channel" (a bot message), "ephemeral" (chat.postEphemeral or an ephemeral
// response_url answer), "said" (the bot's immediate answer to a command).
function messageItem(message, kind, where) {
  const item = el("li", "message");
  item.dataset.ts = message.ts;
  const onlyYou = kind === "ephemeral" || (kind === "said" && !message.in_channel);
  if (onlyYou) item.classList.add("ephemeral");
  item.append(el("div", "avatar", "C"));
  const body = el("div", "body");
  const meta = el("div", "meta");
  const time = el("time", null, clock(message.ts));
  meta.append(el("span", "author", "chatops"), el("span", "app-tag", "APP"), time);
  body.append(meta);
  if (onlyYou) body.append(el("div", "only-you", "Only visible to you"));
  if (kind === "said") body.append(el("div", "typed", "You typed " + message.command));
  if (where === "channel" && message.thread_ts && message.reply_broadcast) {
    const note = el("button", "replies broadcast-note", "replied to a thread");
    note.type = "button";
    note.addEventListener("click", () => openThread(message.thread_ts));
    body.append(note);
  }
  body.append(content(message, kind));
  item.append(body);
  return item;
}

function content(message, kind) {
  return Blocks.render(message.blocks, message.text, {
    userName,
    onButton: (button, block, node) => click(message, kind, button, block, node),
  });
}

async function click(message, kind, button, block, node) {
  const body = node.closest(".body");
  body.querySelectorAll(".note").forEach((old) => old.remove());
  try {
    const answer = await api("/api/clicks", {
      user: state.user,
      message_ts: message.ts,
      ephemeral: kind !== "channel",
      block_id: block.block_id || block.type,
      action_id: button.action_id || "",
      value: button.value ?? null,
      text: (button.text && button.text.text) || "",
    });
    if (answer.note) body.append(el("p", "note", answer.note));
  } catch (error) {
    body.append(el("p", "note", error.message));
  }
}

function repliesButton(parentTs) {
  const count = (state.threads.get(parentTs) || []).length;
  const button = el("button", "replies", count === 1 ? "1 reply" : count + " replies");
  button.type = "button";
  button.addEventListener("click", () => openThread(parentTs));
  return button;
}

// --- The channel ------------------------------------------------------------

const channelItem = (ts) => $("messages").querySelector(`li[data-ts="${CSS.escape(ts)}"]`);

// Shows (or, when already shown, redraws in place) a message in the channel.
function showInChannel(message, kind) {
  state.messages.set(message.ts, { message, kind });
  const fresh = messageItem(message, kind, "channel");
  if (state.threads.has(message.ts)) fresh.querySelector(".body").append(repliesButton(message.ts));
  const shown = channelItem(message.ts);
  if (shown) {
    shown.replaceWith(fresh);
    return;
  }
  const list = $("messages");
  const later = [...list.children].find((item) => parseFloat(item.dataset.ts) > parseFloat(message.ts));
  list.insertBefore(fresh, later || null);
  if (!later) list.scrollTop = list.scrollHeight;
}

function addReply(reply) {
  const replies = state.threads.get(reply.thread_ts) || [];
  const index = replies.findIndex((known) => known.ts === reply.ts);
  if (index >= 0) replies[index] = reply;
  else replies.push(reply);
  state.threads.set(reply.thread_ts, replies);
  const parent = state.messages.get(reply.thread_ts);
  if (parent) showInChannel(parent.message, parent.kind);
  if (state.open === reply.thread_ts) drawThread();
}

// --- The thread pane --------------------------------------------------------

function openThread(parentTs) {
  state.open = parentTs;
  $("thread").hidden = false;
  drawThread();
  $("thread-close").focus();
}

function drawThread() {
  const parent = state.messages.get(state.open);
  const top = $("thread-parent");
  top.replaceChildren();
  if (parent) top.append(messageItem(parent.message, parent.kind, "thread"));
  const list = $("thread-replies");
  list.replaceChildren(
    ...(state.threads.get(state.open) || []).map((reply) => messageItem(reply, "channel", "thread")),
  );
  list.scrollTop = list.scrollHeight;
}

$("thread-close").addEventListener("click", () => {
  state.open = null;
  $("thread").hidden = true;
});

// --- The live feed ----------------------------------------------------------

function applySnapshot(snapshot) {
  state.messages.clear();
  state.threads = new Map(Object.entries(snapshot.threads));
  $("messages").replaceChildren();
  snapshot.messages.forEach((message) => {
    if (message.thread_ts) addReply(message);
    showInChannel(message, "channel");
  });
  snapshot.ephemerals.forEach((ephemeral) =>
    showInChannel({ ...ephemeral, ts: ephemeral.message_ts }, "ephemeral"));
  snapshot.said.forEach((said) => showInChannel(said, "said"));
  if (state.open) drawThread();
  drawHome(snapshot.home);
}

function applyChange(change) {
  if (change.event === "home_published") {
    drawHome(change.view);
    return;
  }
  if (change.event === "ephemeral") {
    showInChannel({ ...change, ts: change.message_ts }, "ephemeral");
    return;
  }
  const inThread = Boolean(change.thread_ts);
  if (inThread) addReply(change);
  if (!inThread || change.reply_broadcast) showInChannel(change, "channel");
  if (change.event === "updated" && state.open === change.ts) drawThread();
}

function connect() {
  if (state.feed) state.feed.close();
  const feed = new EventSource("/api/events?user=" + encodeURIComponent(state.user));
  state.feed = feed;
  feed.addEventListener("open", () => { $("connection").textContent = "live"; });
  feed.addEventListener("error", () => { $("connection").textContent = "reconnecting…"; });
  feed.addEventListener("snapshot", (event) => applySnapshot(JSON.parse(event.data)));
  feed.addEventListener("slack", (event) => applyChange(JSON.parse(event.data)));
  feed.addEventListener("resync", connect);
}

// --- The app's Home tab ----------------------------------------------------

// The Home view the bot last published for you; its buttons click like any other,
// as a click in a view.
function drawHome(view) {
  const into = $("home-view");
  if (!view) {
    state.homeDrawn = null;
    into.replaceChildren(el("p", "hint", "The bot has not published your Home tab yet."));
    return;
  }
  // Opening Home draws the view twice (the answer, then its home_published event), and
  // the bot republishes what may not have changed: redrawing the same blocks would only
  // flicker and swap the buttons under a click.
  const drawn = JSON.stringify([view.id, view.blocks]);
  if (drawn === state.homeDrawn) return;
  state.homeDrawn = drawn;
  const ctx = { userName, onButton: (button, block) => clickHome(view, button, block) };
  into.replaceChildren(Blocks.render(view.blocks, "", ctx));
}

async function clickHome(view, button, block) {
  $("home-status").textContent = "";
  try {
    const answer = await api("/api/clicks", {
      user: state.user,
      view_id: view.id,
      message_ts: "",
      ephemeral: false,
      block_id: block.block_id || block.type,
      action_id: button.action_id || "",
      value: button.value ?? null,
      text: (button.text && button.text.text) || "",
    });
    $("home-status").textContent = answer.note || "Sent: the answer shows in #deploys.";
  } catch (error) {
    $("home-status").textContent = error.message;
  }
}

// Shows #deploys or the Home tab; opening Home sends the bot app_home_opened.
async function show(home) {
  state.home = home;
  $("channel").hidden = home;
  $("home").hidden = !home;
  $("thread").hidden = home || !state.open;
  const current = (node, on) =>
    on ? node.setAttribute("aria-current", "page") : node.removeAttribute("aria-current");
  current($("channel-link"), !home);
  current($("home-link"), home);
  if (!home) return;
  $("home-status").textContent = "opening…";
  try {
    const answer = await api("/api/home", { user: state.user });
    if (answer.view) drawHome(answer.view);
    $("home-status").textContent = answer.note || "live";
  } catch (error) {
    $("home-status").textContent = error.message;
  }
}

$("channel-link").addEventListener("click", () => show(false));
$("home-link").addEventListener("click", () => show(true));

// --- The composer -----------------------------------------------------------

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("message-input");
  const text = input.value.trim();
  if (!text) return;
  $("composer-error").textContent = "";
  // Cleared at once, as Slack's composer is: clearing on the answer would wipe out
  // whatever was typed while the command was on its way.
  input.value = "";
  try {
    showInChannel(await api("/api/commands", { user: state.user, text }), "said");
  } catch (error) {
    if (!input.value) input.value = text;
    $("composer-error").textContent = error.message;
  }
});

// --- The world panel --------------------------------------------------------

async function play(action) {
  const status = $("world-status");
  status.textContent = "…";
  try {
    status.textContent = (await api("/api/world", action)).done;
  } catch (error) {
    status.textContent = error.message;
  }
}

document.querySelectorAll("[data-ci]").forEach((button) =>
  button.addEventListener("click", () =>
    play({ action: "ci", pipeline: $("ci-pipeline").value, state: button.dataset.ci })));
document.querySelectorAll("[data-play]").forEach((button) =>
  button.addEventListener("click", () =>
    play({ action: button.dataset.play, app: $("world-app").value })));
$("slow").addEventListener("change", (event) => play({ action: "pace", slow: event.target.checked }));

function options(select, values) {
  select.replaceChildren(...values.map(([value, label]) => {
    const option = el("option", null, label);
    option.value = value;
    return option;
  }));
}

function becomes(id) {
  state.user = id;
  const person = state.setup.people.find((known) => known.id === id);
  $("user-about").textContent = person.about;
  connect();
  if (state.home) show(true);
}

async function start() {
  state.setup = await (await fetch("/api/setup")).json();
  options($("user"), state.setup.people.map((person) => [person.id, person.name]));
  options($("ci-pipeline"), state.setup.pipelines.map(([name, repo]) => [name, `${name} (${repo})`]));
  options($("world-app"), state.setup.apps.map((app) => [app, app]));
  $("world-app").value = "paipu-app-staging";
  $("user").addEventListener("change", (event) => becomes(event.target.value));
  becomes(state.setup.people[0].id);
}

start();
