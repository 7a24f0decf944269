// The browser Slack: renders what the emulator holds for one user and sends that user's gestures
// back through the emulator's driver (POST /ui/...), which signs and delivers them to the bot.
"use strict";
(function () {
  const { esc, plain, mrkdwn, markdown, richText, setLookup } = window.Mrkdwn;

  const params = new URLSearchParams(location.search);
  const S = {
    me: params.get("user") || localStorage.getItem("emulator.user") || "",
    channel: params.get("channel") || localStorage.getItem("emulator.channel") || "",
    tab: params.get("tab") || "channel", // channel | home | messages
    thread: params.get("thread"),
    version: -1,
    data: null,
    gen: 0,
    ctrl: null,
    drafts: {}, // view id -> {"block/action": value the user entered}
    getters: {}, // block id -> () => value, for the open modal's inputs
    keys: {}, // what was last rendered where, to re-render only what changed
    dismissed: new Set(),
    homeRequested: new Set(),
  };

  // --- helpers --------------------------------------------------------------------------------
  const $ = (sel) => document.querySelector(sel);
  const PROPS = new Set(["value", "checked", "selected", "disabled", "multiple", "hidden", "indeterminate"]);
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "html") el.innerHTML = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (PROPS.has(k)) el[k] = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let uid = 0;
  const nextId = (p) => `${p}-${++uid}`;

  function userById(id) { return (S.data?.users || []).find((u) => u.id === id) || null; }
  function channelById(id) { return (S.data?.channels || []).find((c) => c.id === id) || null; }
  setLookup({ user: userById, channel: channelById });

  function textHtml(t) {
    if (!t) return "";
    return t.type === "mrkdwn" ? mrkdwn(t.text) : plain(t.text, t.emoji !== false);
  }
  // An image's source: its URL, or an uploaded file (slack_file by id or url_private) served by the emulator.
  function imageSrc(x) {
    const sf = x.slack_file || {};
    const id = sf.id || ((sf.url || "").match(/\/files-pri\/[A-Z0-9]+-(F[A-Z0-9]+)\//) || [])[1];
    return x.image_url || (id ? `/ui/files/${encodeURIComponent(id)}` : sf.url);
  }
  function timeOf(ts) {
    const d = new Date(Number(ts) * 1000);
    return d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
  }
  function initials(name) { return (name || "?").trim().split(/\s+/).map((p) => p[0]).join("").slice(0, 2).toUpperCase(); }
  const COLORS = ["#e8912d", "#2bac76", "#1264a3", "#e01e5a", "#4a154b", "#36c5f0", "#b9771e", "#0b4c8c"];
  function colorFor(id) { let n = 0; for (const c of id || "") n = (n * 31 + c.charCodeAt(0)) >>> 0; return COLORS[n % COLORS.length]; }

  function toast(message, kind = "error") {
    const box = h("div", { class: `toast ${kind}` }, h("span", {}, message), h("button", { class: "toast-x", "aria-label": "Dismiss", onclick: () => box.remove() }, "×"));
    $("#toasts").append(box);
    setTimeout(() => box.remove(), kind === "error" ? 12000 : 5000);
  }

  async function post(path, body) {
    let answer;
    try {
      const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user: S.me, ...body }) });
      answer = await r.json();
    } catch (e) {
      toast("The emulator did not answer; is telecrm-bot still running?");
      return { ok: false };
    }
    if (!answer.ok) toast(answer.error || "That did not work");
    for (const p of answer.problems || []) toast(p);
    return answer;
  }
  window.EmuFiles.init({ h, toast, me: () => S.me }); // files.js: files in messages, attach, file_input

  // --- state from the emulator ----------------------------------------------------------------
  function stateUrl() {
    const q = new URLSearchParams({ since: String(S.version), wait: "20" });
    if (S.me) q.set("user", S.me);
    if (S.channel) q.set("channel", S.channel);
    return "/ui/state?" + q;
  }

  async function pollLoop() {
    const gen = ++S.gen;
    while (gen === S.gen) {
      const ctrl = new AbortController();
      S.ctrl = ctrl;
      try {
        const r = await fetch(stateUrl(), { signal: ctrl.signal, cache: "no-store" });
        const data = await r.json();
        if (gen !== S.gen) return;
        if (!data.ok) throw new Error(data.error);
        $("#offline").hidden = true;
        S.version = data.version;
        apply(data);
      } catch (e) {
        if (gen !== S.gen) return;
        $("#offline").hidden = false;
        await sleep(1000);
      }
    }
  }
  function refresh() {
    S.version = -1;
    if (S.ctrl) S.ctrl.abort();
    pollLoop();
  }
  function remember() {
    localStorage.setItem("emulator.user", S.me);
    localStorage.setItem("emulator.channel", S.channel);
    const q = new URLSearchParams({ user: S.me, channel: S.channel });
    if (S.tab !== "channel") q.set("tab", S.tab);
    history.replaceState(null, "", "?" + q);
  }

  function changed(name, value) {
    const key = JSON.stringify(value);
    if (S.keys[name] === key) return false;
    S.keys[name] = key;
    return true;
  }

  function apply(data) {
    if (S.me !== data.me || S.channel !== data.channel) {
      S.me = data.me;
      S.channel = data.channel;
      remember();
    }
    S.data = data;
    document.title = `${channelLabel()} · Slack emulator`;
    $("#team-name").textContent = data.team.name;
    if (changed("users", [data.users, data.me])) renderUserPicker();
    if (changed("sidebar", [data.channels, data.channel, S.tab, data.app.name])) renderSidebar();
    if (changed("header", [data.channel, S.tab, data.channels, data.home ? 1 : 0])) renderHeader();
    const visible = [data.messages, data.ephemerals.filter((e) => !S.dismissed.has(e.ts)), data.home, S.tab, data.users];
    if (changed("body", visible)) renderBody();
    if (changed("composer", [data.channel, S.tab, data.app.commands])) renderComposer();
    if (changed("thread", [S.thread, data.replies[S.thread], data.messages.find((m) => m.ts === S.thread), data.ephemerals.filter((e) => e.thread_ts === S.thread && !S.dismissed.has(e.ts))])) renderThread();
    const top = data.views[data.views.length - 1] || null;
    if (changed("modal", top ? [top.id, top.hash, top.errors, data.views.length] : null)) renderModal(top, data.views.length);
    if (S.tab === "home" && !data.home && !S.homeRequested.has(S.me)) openHome();
    if (S.stickMain) {
      const body = $("#main-body");
      body.scrollTop = body.scrollHeight; // after the thread pane, which changes the width, is drawn
      S.stickMain = false;
    }
  }

  // --- chrome ---------------------------------------------------------------------------------
  function renderUserPicker() {
    const select = $("#me");
    select.replaceChildren(
      ...S.data.users.filter((u) => !u.is_bot && !u.deleted).map((u) =>
        h("option", { value: u.id, selected: u.id === S.me }, `${u.real_name}${u.is_admin ? " (admin)" : ""}`))
    );
  }

  function channelLabel() {
    if (S.tab !== "channel") return S.data?.app.name || "App";
    const c = channelById(S.channel);
    return c ? `#${c.name}` : S.channel;
  }

  function dmChannel() { return "D" + S.me.slice(1); }

  function renderSidebar() {
    const channels = S.data.channels.filter((c) => !c.is_im);
    $("#channel-list").replaceChildren(
      ...channels.map((c) =>
        h("li", {},
          h("a", {
            href: "#", class: S.tab === "channel" && c.id === S.channel ? "active" : "",
            "aria-current": S.tab === "channel" && c.id === S.channel ? "page" : null,
            onclick: (e) => { e.preventDefault(); go(c.id, "channel"); },
          }, h("span", { class: "hash" }, c.is_private ? "🔒" : "#"), c.name, c.is_member ? null : h("span", { class: "muted" }, " (app not in channel)"))))
    );
    const app = S.data.app.name;
    $("#app-list").replaceChildren(
      h("li", {}, h("a", {
        href: "#", class: S.tab !== "channel" ? "active" : "",
        onclick: (e) => { e.preventDefault(); go(dmChannel(), "home"); },
      }, h("span", { class: "app-icon" }, initials(app)), app))
    );
  }

  function go(channel, tab) {
    S.tab = tab;
    S.channel = channel;
    S.thread = null;
    S.keys = {};
    remember();
    refresh();
  }

  function renderHeader() {
    const header = $("#main-header");
    if (S.tab === "channel") {
      const c = channelById(S.channel);
      header.replaceChildren(h("h1", {}, h("span", { class: "hash" }, "#"), c ? c.name : S.channel));
      return;
    }
    const tab = (name, label) => h("button", {
      class: `tab ${S.tab === name ? "active" : ""}`, role: "tab", "aria-selected": S.tab === name ? "true" : "false",
      onclick: () => { S.tab = name; S.keys = {}; remember(); if (name === "home") openHome(); else apply(S.data); },
    }, label);
    header.replaceChildren(
      h("h1", {}, h("span", { class: "app-icon big" }, initials(S.data.app.name)), S.data.app.name),
      h("div", { class: "tabs", role: "tablist" }, tab("home", "Home"), tab("messages", "Messages"))
    );
  }

  async function openHome() {
    S.homeRequested.add(S.me);
    await post("/ui/home", {});
  }

  // --- messages -------------------------------------------------------------------------------
  function nearBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 80; }

  function renderBody() {
    const body = $("#main-body");
    const stick = nearBottom(body) || body.dataset.channel !== S.channel + S.tab;
    body.dataset.channel = S.channel + S.tab;
    if (S.tab === "home") {
      const home = S.data.home;
      body.replaceChildren(
        home
          ? h("div", { class: "home-view surface-view" }, renderBlocks(home.blocks, { surface: "home", view_id: home.id, state: home.state?.values || {} }))
          : h("div", { class: "empty" }, "Opening the Home tab…")
      );
      body.scrollTop = 0;
      return;
    }
    const items = [
      ...S.data.messages.map((m) => ({ ...m, _kind: "message" })),
      ...S.data.ephemerals.filter((e) => !e.thread_ts && !S.dismissed.has(e.ts)).map((e) => ({ ...e, _kind: "ephemeral" })),
    ].sort((a, b) => Number(a.ts) - Number(b.ts));
    const list = h("div", { class: "message-list" }, intro(), items.map((m) => renderMessage(m, { channel: S.channel, inThread: false })));
    body.replaceChildren(list);
    S.stickMain = stick;
  }

  function intro() {
    if (S.tab === "messages") {
      return h("div", { class: "intro" }, h("h2", {}, S.data.app.name),
        h("p", {}, "Messages the app sends you directly appear here. This tab is read-only; use the slash commands in a channel."));
    }
    const c = channelById(S.channel);
    const cmds = S.data.app.commands;
    return h("div", { class: "intro" },
      h("h2", {}, `#${c ? c.name : S.channel}`),
      h("p", {}, "This is a channel in the local Slack emulator. Type a slash command below — it is sent to the bot signed, exactly as Slack would send it."),
      cmds.length ? h("ul", { class: "intro-commands" }, cmds.map((cmd) =>
        h("li", {}, h("code", {}, cmd.command), " ", h("span", { class: "muted" }, cmd.usage_hint), h("div", {}, cmd.description)))) : null);
  }

  function authorOf(m) {
    if (m._kind === "ephemeral" || m.bot_id || m.user === S.data.bot_user) return { name: m.bot_profile?.name || S.data.app.name, bot: true, id: m.bot_id || "bot" };
    const u = userById(m.user);
    return { name: u ? u.real_name : m.user || "someone", bot: false, id: m.user };
  }

  function renderMessage(m, where) {
    const ephemeral = m._kind === "ephemeral";
    const author = authorOf(m);
    const ctx = { surface: ephemeral ? "ephemeral" : "message", channel: where.channel, ts: m.ts };
    const content = m.blocks && m.blocks.length
      ? renderBlocks(m.blocks, ctx)
      : h("div", { class: "mrkdwn msg-text", html: mrkdwn(m.text) });
    const broadcast = m.subtype === "thread_broadcast"
      ? h("div", { class: "broadcast muted" }, "replied to a thread: ", h("a", { href: "#", onclick: (e) => { e.preventDefault(); openThread(m.thread_ts); } }, (m.root?.text || "").slice(0, 80)))
      : null;
    const replies = !where.inThread && m.reply_count && m.thread_ts === m.ts
      ? h("button", { class: "thread-link", onclick: () => openThread(m.ts) },
        h("span", { class: "reply-avatars" }, (m.reply_users || []).slice(0, 3).map((id) => avatar(id === S.data.bot_user ? authorOf({ bot_id: "b" }) : { id, name: userById(id)?.real_name || id }, true))),
        `${m.reply_count} ${m.reply_count === 1 ? "reply" : "replies"}`,
        h("span", { class: "muted" }, ` Last reply ${timeOf(m.latest_reply)}`))
      : null;
    return h("div", { class: `msg ${ephemeral ? "ephemeral" : ""}`, "data-ts": m.ts, "data-testid": ephemeral ? "ephemeral" : "message" },
      avatar(author),
      h("div", { class: "msg-body" },
        ephemeral ? h("div", { class: "only-you" }, "👁 Only visible to you",
          h("button", { class: "linkish", onclick: () => { S.dismissed.add(m.ts); apply(S.data); } }, "Dismiss")) : null,
        h("div", { class: "msg-meta" },
          h("span", { class: "author" }, author.name),
          author.bot ? h("span", { class: "app-badge" }, "APP") : null,
          h("span", { class: "time", title: m.ts }, timeOf(m.ts)),
          m.edited ? h("span", { class: "muted" }, " (edited)") : null),
        broadcast,
        m.subtype === "file_share" && !m.text ? null : content,
        window.EmuFiles.list(m.files),
        renderAttachments(m.attachments),
        replies),
      ephemeral ? null : messageMenu(m, where));
  }

  function avatar(author, small) {
    return h("div", { class: `avatar ${small ? "small" : ""} ${author.bot ? "bot" : ""}`, style: `background:${author.bot ? "#1f3b73" : colorFor(author.id)}` }, initials(author.name));
  }

  function renderAttachments(atts) {
    if (!atts || !atts.length) return null;
    return atts.map((a) => h("div", { class: `attachment${a.is_app_unfurl ? " unfurl" : ""}`, "data-testid": a.is_app_unfurl ? "unfurl" : "attachment", style: `border-left-color:${a.color && /^#?[0-9a-f]{3,6}$/i.test(a.color) ? (a.color.startsWith("#") ? a.color : "#" + a.color) : "#ddd"}` },
      a.is_app_unfurl ? h("div", { class: "unfurl-app muted" }, S.data.app.name) : null,
      a.pretext ? h("div", { class: "mrkdwn", html: mrkdwn(a.pretext) }) : null,
      a.title ? h("div", { class: "att-title" }, a.title) : null,
      a.text ? h("div", { class: "mrkdwn", html: mrkdwn(a.text) }) : null,
      a.fields ? h("div", { class: "b-fields" }, a.fields.map((f) => h("div", {}, h("b", {}, f.title), h("div", { class: "mrkdwn", html: mrkdwn(f.value) })))) : null,
      a.blocks ? renderBlocks(a.blocks, {}) : null));
  }

  function messageMenu(m, where) {
    const shortcuts = S.data.app.shortcuts.filter((s) => s.type === "message");
    return h("div", { class: "msg-actions" },
      where.inThread ? null : h("button", { class: "icon-btn", title: "Reply in thread", "aria-label": "Reply in thread", onclick: () => openThread(m.thread_ts || m.ts) }, "💬"),
      shortcuts.length ? h("button", {
        class: "icon-btn", title: "More actions", "aria-label": "More actions",
        onclick: (e) => openMenu(e.currentTarget, shortcuts.map((s) => ({
          label: s.name, hint: s.description,
          run: () => post("/ui/shortcut", { callback_id: s.callback_id, channel: where.channel, message_ts: m.ts }),
        })), "Shortcuts from " + S.data.app.name),
      }, "⋮") : null);
  }

  function openMenu(anchor, items, title) {
    const root = $("#menu-root");
    const close = () => { root.replaceChildren(); document.removeEventListener("mousedown", outside, true); };
    const outside = (e) => { if (!root.contains(e.target)) close(); };
    const rect = anchor.getBoundingClientRect();
    const menu = h("div", { class: "menu", role: "menu", style: `top:${rect.bottom + 4}px;left:${Math.max(8, rect.right - 280)}px` },
      title ? h("div", { class: "menu-title" }, title) : null,
      items.map((it) => h("button", { class: "menu-item", role: "menuitem", onclick: () => { close(); it.run(); } },
        h("div", { html: it.html || esc(it.label) }), it.hint ? h("div", { class: "muted small" }, it.hint) : null)));
    root.replaceChildren(menu);
    setTimeout(() => document.addEventListener("mousedown", outside, true));
  }

  // --- thread pane ----------------------------------------------------------------------------
  function openThread(ts) {
    S.thread = ts;
    apply(S.data);
  }

  function renderThread() {
    const pane = $("#thread-pane");
    const parent = S.thread && S.tab !== "home" ? S.data.messages.find((m) => m.ts === S.thread) : null;
    if (!parent) { pane.hidden = true; pane.replaceChildren(); delete pane.dataset.thread; return; }
    const where = { channel: S.channel, inThread: true };
    const items = [
      ...(S.data.replies[S.thread] || []).map((m) => ({ ...m, _kind: "message" })),
      ...S.data.ephemerals.filter((e) => e.thread_ts === S.thread && !S.dismissed.has(e.ts)).map((e) => ({ ...e, _kind: "ephemeral" })),
    ].sort((a, b) => Number(a.ts) - Number(b.ts));
    const count = (S.data.replies[S.thread] || []).length;
    if (pane.dataset.thread !== S.thread + S.channel) {
      pane.dataset.thread = S.thread + S.channel;
      pane.replaceChildren(
        h("div", { class: "thread-head" },
          h("div", {}, h("b", {}, "Thread"), h("span", { class: "muted" }, ` #${channelById(S.channel)?.name || ""}`)),
          h("button", { class: "icon-btn", "aria-label": "Close thread", onclick: () => { S.thread = null; apply(S.data); } }, "×")),
        h("div", { class: "scroll thread-scroll" }),
        composer({ thread_ts: S.thread, placeholder: "Reply…" }));
    }
    const scroll = pane.querySelector(".thread-scroll");
    const stick = pane.hidden || nearBottom(scroll);
    scroll.replaceChildren(
      renderMessage({ ...parent, _kind: "message" }, where),
      h("div", { class: "thread-count" }, `${count} ${count === 1 ? "reply" : "replies"}`),
      ...items.map((m) => renderMessage(m, where)));
    pane.hidden = false;
    if (stick) scroll.scrollTop = scroll.scrollHeight;
  }

  // --- composer -------------------------------------------------------------------------------
  function renderComposer() {
    const area = $("#composer-area");
    if (S.tab === "home") { area.replaceChildren(); return; }
    if (S.tab === "messages") { area.replaceChildren(h("div", { class: "read-only muted" }, "Sending messages to this app has been turned off.")); return; }
    area.replaceChildren(composer({ placeholder: `Message ${channelLabel()} — try ${S.data.app.commands[0]?.command || "/command"}` }));
  }

  function composer({ thread_ts, placeholder }) {
    const hints = h("div", { class: "cmd-hints", hidden: true, role: "listbox" });
    const input = h("textarea", { class: "composer-input", rows: 1, placeholder, "aria-label": thread_ts ? "Reply in thread" : "Message" });
    const send = async () => {
      const text = input.value;
      if (!text.trim()) return;
      input.value = "";
      showHints();
      input.style.height = "";
      const answer = await post("/ui/send", { channel: S.channel, text, thread_ts: thread_ts || null });
      if (!answer.ok && !input.value) input.value = text;
    };
    const matches = () => {
      const v = input.value;
      if (!v.startsWith("/") || /\s/.test(v)) return [];
      return S.data.app.commands.filter((c) => c.command.startsWith(v.toLowerCase()));
    };
    function showHints() {
      const found = thread_ts ? [] : matches();
      hints.hidden = !found.length;
      hints.replaceChildren(...found.map((c) => h("button", {
        class: "cmd-hint", role: "option",
        onclick: () => { input.value = c.command + " "; showHints(); input.focus(); },
      }, h("b", {}, c.command), " ", h("span", { class: "muted" }, c.usage_hint), h("div", { class: "small" }, c.description))));
    }
    input.addEventListener("input", () => { input.style.height = ""; input.style.height = Math.min(input.scrollHeight, 200) + "px"; showHints(); });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Tab" && matches().length) { e.preventDefault(); input.value = matches()[0].command + " "; showHints(); }
      else if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(); }
    });
    const attach = window.EmuFiles.attachButton({ channel: () => S.channel, thread_ts, input });
    return h("div", { class: "composer" }, hints,
      h("div", { class: "composer-box" }, attach, input, h("button", { class: "send", "aria-label": "Send", title: "Send (Enter)", onclick: send }, "➤")));
  }

  // --- blocks ---------------------------------------------------------------------------------
  function renderBlocks(blocks, ctx) {
    return h("div", { class: "blocks" }, (blocks || []).map((b) => renderBlock(b, ctx)));
  }

  function renderBlock(b, ctx) {
    const id = b.block_id;
    switch (b.type) {
      case "header": return h("div", { class: "b-header", "data-block-id": id, html: plain(b.text?.text) });
      case "divider": return h("hr", { class: "b-divider" });
      case "section":
        return h("div", { class: "b-section", "data-block-id": id },
          h("div", { class: "b-section-main" },
            b.text ? h("div", { class: "mrkdwn b-text", html: textHtml(b.text) }) : null,
            b.fields ? h("div", { class: "b-fields" }, b.fields.map((f) => h("div", { class: "mrkdwn", html: textHtml(f) }))) : null),
          b.accessory ? h("div", { class: "b-accessory" }, control(b, b.accessory, ctx, false)) : null);
      case "context":
        return h("div", { class: "b-context", "data-block-id": id }, (b.elements || []).map((e) =>
          e.type === "image" ? h("img", { class: "ctx-img", src: imageSrc(e), alt: e.alt_text }) : h("span", { class: "mrkdwn", html: textHtml(e) })));
      case "actions":
        return h("div", { class: "b-actions", "data-block-id": id }, (b.elements || []).map((e) => control(b, e, ctx, false)));
      case "image":
        return h("figure", { class: "b-image", "data-block-id": id },
          b.title ? h("figcaption", { html: plain(b.title.text) }) : null,
          h("img", { src: imageSrc(b), alt: b.alt_text }));
      case "input": return renderInput(b, ctx);
      case "rich_text": return h("div", { class: "b-rich", "data-block-id": id, html: richText(b) });
      case "markdown": return h("div", { class: "mrkdwn b-markdown", html: markdown(b.text) });
      case "table":
        return h("table", { class: "b-table" }, (b.rows || []).map((row, i) => h("tr", {}, row.map((cell) =>
          h(i === 0 ? "th" : "td", { html: cell.type === "rich_text" ? richText(cell) : esc(cell.text ?? "") })))));
      case "video":
        return h("div", { class: "b-video" }, "▶ ", h("a", { href: b.title_url || b.video_url, target: "_blank", rel: "noopener" }, b.title?.text || "Video"));
      default:
        return h("div", { class: "muted small" }, `[${b.type} block]`);
    }
  }

  function renderInput(b, ctx) {
    const el = b.element || {};
    const id = nextId("in");
    const error = ctx.errors?.[b.block_id];
    return h("div", { class: `b-input ${error ? "has-error" : ""}`, "data-block-id": b.block_id },
      h("label", { class: "input-label", for: id, id: id + "-label", html: plain(b.label?.text) + (b.optional ? ' <span class="muted">(optional)</span>' : "") }),
      control(b, el, { ...ctx, inputId: id }, true),
      error ? h("div", { class: "input-error", role: "alert" }, error) : null,
      b.hint ? h("div", { class: "input-hint", html: plain(b.hint.text) }) : null);
  }

  // The value of an element as this page keeps it (and sends it to the driver).
  function fromState(type, st) {
    if (!st) return null;
    switch (type) {
      case "plain_text_input": case "email_text_input": case "url_text_input": case "number_input": return st.value ?? "";
      case "static_select": case "radio_buttons": case "overflow": return st.selected_option?.value ?? null;
      case "multi_static_select": case "checkboxes": return (st.selected_options || []).map((o) => o.value);
      case "external_select": return st.selected_option || null;
      case "multi_external_select": return st.selected_options || [];
      case "users_select": return st.selected_user || null;
      case "multi_users_select": return st.selected_users || [];
      case "conversations_select": return st.selected_conversation || null;
      case "channels_select": return st.selected_channel || null;
      case "multi_conversations_select": return st.selected_conversations || [];
      case "multi_channels_select": return st.selected_channels || [];
      case "datepicker": return st.selected_date || null;
      case "timepicker": return st.selected_time || null;
      case "datetimepicker": return st.selected_date_time ?? null;
      case "rich_text_input": return st.rich_text_value || null;
      case "file_input": return st.files || [];
      default: return null;
    }
  }
  function initialOf(el) {
    return fromState(el.type, {
      value: el.initial_value, selected_option: el.initial_option, selected_options: el.initial_options,
      selected_user: el.initial_user, selected_users: el.initial_users,
      selected_conversation: el.initial_conversation, selected_channel: el.initial_channel,
      selected_conversations: el.initial_conversations, selected_channels: el.initial_channels,
      selected_date: el.initial_date, selected_time: el.initial_time, selected_date_time: el.initial_date_time,
      rich_text_value: el.initial_value,
    });
  }
  function currentValue(block, el, ctx, inInput) {
    const key = `${block.block_id}/${el.action_id}`;
    const drafts = ctx.view_id ? S.drafts[ctx.view_id] : null;
    if (drafts && key in drafts) return drafts[key];
    const st = ctx.state?.[block.block_id]?.[el.action_id];
    return st ? fromState(el.type, st) : initialOf(el);
  }

  function optionsOf(el) {
    if (el.option_groups) return el.option_groups.flatMap((g) => g.options || []);
    return el.options || [];
  }

  // An interactive element. Inside an input block it only changes the form (unless the block
  // dispatches actions); elsewhere every change is sent to the bot at once, as in Slack.
  function control(block, el, ctx, inInput) {
    const dispatches = !inInput || block.dispatch_action;
    const key = `${block.block_id}/${el.action_id}`;
    let value = currentValue(block, el, ctx, inInput);
    const change = (v, send = dispatches) => {
      value = v;
      if (ctx.view_id) (S.drafts[ctx.view_id] ||= {})[key] = v;
      if (send) dispatch(block, el, ctx, v);
    };
    if (inInput && ctx.surface === "modal") S.getters[block.block_id] = () => value;
    const common = { id: ctx.inputId || null, "data-key": key, "aria-label": ctx.inputId ? null : el.placeholder?.text || el.text?.text || el.action_id };
    const placeholder = el.placeholder?.text || "";
    switch (el.type) {
      case "button": {
        const button = h("button", {
          class: `btn ${el.style || ""}`, "data-action-id": el.action_id,
          onclick: async () => {
            if (el.confirm && !(await confirmDialog(el.confirm))) return;
            if (el.url) window.open(el.url, "_blank", "noopener");
            button.disabled = true;
            try { await dispatch(block, el, ctx, el.value ?? null); } finally { button.disabled = false; }
          },
        });
        button.innerHTML = plain(el.text?.text, el.text?.emoji !== false);
        return button;
      }
      case "plain_text_input": case "email_text_input": case "url_text_input": case "number_input": {
        const multiline = el.type === "plain_text_input" && el.multiline;
        const input = h(multiline ? "textarea" : "input", {
          ...common, class: "field", placeholder, value: value ?? "",
          type: multiline ? null : el.type === "email_text_input" ? "email" : el.type === "url_text_input" ? "url" : "text",
          inputmode: el.type === "number_input" ? (el.is_decimal_allowed ? "decimal" : "numeric") : null,
          rows: multiline ? 4 : null, "data-action-id": el.action_id, "data-focus": inInput && el.focus_on_load ? "1" : null,
        });
        input.addEventListener("input", () => change(input.value, false));
        if (dispatches) input.addEventListener("keydown", (e) => { if (e.key === "Enter" && !multiline) { e.preventDefault(); dispatch(block, el, ctx, input.value); } });
        return input;
      }
      case "rich_text_input": {
        const input = h("textarea", { ...common, class: "field", rows: 4, placeholder });
        input.value = value ? (value.elements || []).flatMap((s) => (s.elements || []).map((e) => e.text || "")).join("") : "";
        input.addEventListener("input", () => change({ type: "rich_text", elements: [{ type: "rich_text_section", elements: [{ type: "text", text: input.value }] }] }, false));
        return input;
      }
      case "static_select": case "users_select": case "conversations_select": case "channels_select": {
        const select = h("select", { ...common, class: "field", "data-action-id": el.action_id },
          h("option", { value: "", selected: !value }, placeholder || "Select an item"),
          selectOptions(el, value));
        select.addEventListener("change", () => change(select.value || null));
        return select;
      }
      case "multi_static_select": case "multi_users_select": case "multi_conversations_select": case "multi_channels_select": {
        const select = h("select", { ...common, class: "field multi", multiple: true, "data-action-id": el.action_id }, selectOptions(el, value || []));
        select.size = Math.min(6, Math.max(3, select.options.length));
        select.addEventListener("change", () => change([...select.selectedOptions].map((o) => o.value)));
        return h("div", {}, select, h("div", { class: "muted small" }, placeholder || "Ctrl/⌘-click to choose several"));
      }
      case "external_select": case "multi_external_select":
        return externalSelect(block, el, ctx, value, change, common);
      case "overflow":
        return h("button", {
          class: "btn overflow", "aria-label": "More options", "data-action-id": el.action_id,
          onclick: (e) => openMenu(e.currentTarget, optionsOf(el).map((o) => ({ html: textHtml(o.text), run: () => change(o.value, true) }))),
        }, "⋯");
      case "datepicker": {
        const input = h("input", { ...common, class: "field", type: "date", value: value || "", "data-action-id": el.action_id });
        input.addEventListener("change", () => change(input.value || null));
        return input;
      }
      case "timepicker": {
        const input = h("input", { ...common, class: "field", type: "time", value: value || "", "data-action-id": el.action_id });
        input.addEventListener("change", () => change(input.value || null));
        return input;
      }
      case "datetimepicker": {
        const local = (epoch) => { const d = new Date(epoch * 1000); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}T${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`; };
        const input = h("input", { ...common, class: "field", type: "datetime-local", value: value ? local(value) : "", "data-action-id": el.action_id });
        input.addEventListener("change", () => change(input.value ? Math.floor(new Date(input.value).getTime() / 1000) : null));
        return input;
      }
      case "checkboxes": case "radio_buttons": {
        const multi = el.type === "checkboxes";
        const name = nextId("choice");
        const chosen = new Set(multi ? value || [] : value ? [value] : []);
        const group = h("div", { class: "choices", role: multi ? "group" : "radiogroup", id: ctx.inputId || null, "aria-labelledby": ctx.inputId ? ctx.inputId + "-label" : null },
          optionsOf(el).map((o) => {
            const box = h("input", { type: multi ? "checkbox" : "radio", name, value: o.value, checked: chosen.has(o.value) });
            box.addEventListener("change", () => {
              const picked = [...group.querySelectorAll("input")].filter((i) => i.checked).map((i) => i.value);
              change(multi ? picked : picked[0] || null);
            });
            return h("label", { class: "choice" }, box, h("span", { html: textHtml(o.text) }), o.description ? h("div", { class: "muted small", html: textHtml(o.description) }) : null);
          }));
        return group;
      }
      case "image":
        return h("img", { class: "accessory-img", src: imageSrc(el), alt: el.alt_text });
      case "workflow_button":
        return h("button", { class: "btn", disabled: true, title: "Workflows are not emulated" }, el.text?.text || "Workflow");
      case "file_input":
        return window.EmuFiles.picker(el, value, change, common);
      default:
        return h("span", { class: "muted small" }, `[${el.type}]`);
    }
  }

  function selectOptions(el, value) {
    const chosen = new Set(Array.isArray(value) ? value : value ? [value] : []);
    const opt = (v, label, html) => { const o = h("option", { value: v, selected: chosen.has(v) }); if (html) o.innerHTML = html; else o.textContent = label; return o; };
    if (el.type.includes("users")) return S.data.users.filter((u) => !u.deleted).map((u) => opt(u.id, u.real_name + (u.is_bot ? " (app)" : "")));
    if (el.type.includes("conversations") || el.type.includes("channels")) return S.data.channels.filter((c) => !c.is_im).map((c) => opt(c.id, "#" + c.name));
    const asText = (o) => plain(o.text?.text, o.text?.emoji !== false);
    if (el.option_groups) {
      return el.option_groups.map((g) => h("optgroup", { label: g.label?.text || "" }, (g.options || []).map((o) => opt(o.value, null, asText(o)))));
    }
    return (el.options || []).map((o) => opt(o.value, null, asText(o)));
  }

  // Type-ahead select: what is typed is sent to the bot as block_suggestion, its options are offered.
  function externalSelect(block, el, ctx, value, change, common) {
    const multi = el.type === "multi_external_select";
    let chosen = multi ? [...(value || [])] : value ? [value] : [];
    const minLen = el.min_query_length ?? 3;
    const chips = h("div", { class: "chips" });
    const input = h("input", { ...common, class: "field", type: "text", autocomplete: "off", placeholder: el.placeholder?.text || "Type to search…", "data-action-id": el.action_id, role: "combobox" });
    const list = h("div", { class: "ext-options", hidden: true, role: "listbox" });
    const drawChips = () => {
      chips.replaceChildren(...chosen.map((o, i) => h("span", { class: "chip" }, h("span", { html: textHtml(o.text) }),
        h("button", { class: "chip-x", "aria-label": "Remove", onclick: () => { chosen.splice(i, 1); drawChips(); change(multi ? [...chosen] : null); } }, "×"))));
      input.placeholder = !multi && chosen.length ? "Type to change…" : el.placeholder?.text || "Type to search…";
    };
    const pick = (o) => {
      chosen = multi ? [...chosen.filter((c) => c.value !== o.value), o] : [o];
      input.value = "";
      list.hidden = true;
      drawChips();
      change(multi ? [...chosen] : o);
    };
    let timer = null;
    let asked = 0;
    const ask = async () => {
      const typed = input.value;
      if (typed.length < minLen) {
        list.hidden = false;
        list.replaceChildren(h("div", { class: "muted small pad" }, `Type at least ${minLen} character${minLen === 1 ? "" : "s"}…`));
        return;
      }
      const mine = ++asked;
      list.hidden = false;
      list.replaceChildren(h("div", { class: "muted small pad" }, "Searching…"));
      const where = ctx.view_id ? { view_id: ctx.view_id, inputs: collectInputs() } : { channel: ctx.channel, message_ts: ctx.ts };
      const answer = await post("/ui/suggest", { action_id: el.action_id, block_id: block.block_id, value: typed, ...where });
      if (mine !== asked) return;
      const item = (o) => h("button", { class: "ext-option", role: "option", onmousedown: (e) => { e.preventDefault(); pick(o); } },
        h("span", { html: textHtml(o.text) }), o.description ? h("span", { class: "muted small", html: " " + textHtml(o.description) }) : null);
      const groups = answer.option_groups;
      const found = groups ? groups.map((g) => [h("div", { class: "ext-group" }, g.label?.text || ""), (g.options || []).map(item)]) : (answer.options || []).map(item);
      list.replaceChildren(...(found.flat().length ? found.flat() : [h("div", { class: "muted small pad" }, answer.ok ? "No matches" : "Could not load options")]));
    };
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(ask, 200); });
    input.addEventListener("focus", () => { if (minLen === 0) ask(); });
    input.addEventListener("blur", () => setTimeout(() => { list.hidden = true; }, 150));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); const first = list.querySelector(".ext-option"); if (first) first.dispatchEvent(new MouseEvent("mousedown")); }
      if (e.key === "Escape") { list.hidden = true; e.stopPropagation(); }
    });
    drawChips();
    return h("div", { class: "ext-select" }, chips, input, list);
  }

  async function dispatch(block, el, ctx, value) {
    const body = { action_id: el.action_id, block_id: block.block_id, kind: el.type === "button" ? "button" : "select", value };
    if (ctx.view_id) Object.assign(body, { view_id: ctx.view_id, inputs: ctx.surface === "modal" ? collectInputs() : undefined });
    else Object.assign(body, { channel: ctx.channel, message_ts: ctx.ts });
    return post("/ui/action", body);
  }

  function confirmDialog(confirm) {
    return new Promise((resolve) => {
      const done = (ok) => { layer.remove(); resolve(ok); };
      const layer = h("div", { class: "backdrop confirm-layer" },
        h("div", { class: "modal confirm", role: "alertdialog", "aria-label": confirm.title?.text || "Are you sure?" },
          h("div", { class: "modal-head" }, h("h2", {}, confirm.title?.text || "Are you sure?")),
          h("div", { class: "modal-body mrkdwn", html: textHtml(confirm.text) }),
          h("div", { class: "modal-foot" },
            h("button", { class: "btn", onclick: () => done(false) }, confirm.deny?.text || "Cancel"),
            h("button", { class: `btn ${confirm.style === "danger" ? "danger" : "primary"}`, onclick: () => done(true) }, confirm.confirm?.text || "Yes"))));
      document.body.append(layer);
    });
  }

  // --- modals ---------------------------------------------------------------------------------
  function collectInputs() {
    const values = {};
    for (const [blockId, get] of Object.entries(S.getters)) values[blockId] = get();
    return values;
  }

  // The element the user is typing in, so a re-render of the same view (the bot's views.update)
  // puts the caret back where it was instead of taking the field away from under their fingers.
  function typingIn(viewId) {
    const el = document.activeElement;
    if (!el || !$("#modal-root").contains(el) || S.keys.modalFocused !== viewId) return null;
    const key = el.getAttribute("data-key");
    if (!key) return null;
    const caret = typeof el.selectionStart === "number" ? [el.selectionStart, el.selectionEnd] : null;
    return { key, caret };
  }

  function typeOnIn(body, typing) {
    const el = typing && [...body.querySelectorAll("[data-key]")].find((e) => e.getAttribute("data-key") === typing.key);
    if (!el) return false;
    el.focus();
    if (typing.caret && typeof el.setSelectionRange === "function") el.setSelectionRange(...typing.caret);
    return true;
  }

  function renderModal(view, depth) {
    const root = $("#modal-root");
    const typing = view ? typingIn(view.id) : null;
    S.getters = {};
    if (!view) { root.replaceChildren(); return; }
    for (const id of Object.keys(S.drafts)) if (!S.data.views.some((v) => v.id === id)) delete S.drafts[id];
    const ctx = { surface: "modal", view_id: view.id, state: view.state?.values || {}, errors: view.errors || {} };
    const title = plain(view.title?.text);
    let busy = false;
    const submit = view.submit ? h("button", {
      class: "btn primary", type: "button",
      onclick: async () => {
        if (busy) return;
        busy = true;
        submit.disabled = true;
        submit.classList.add("busy");
        await post("/ui/submit", { view_id: view.id, values: collectInputs() });
        busy = false;
        submit.disabled = false;
        submit.classList.remove("busy");
      },
    }) : null;
    if (submit) submit.innerHTML = plain(view.submit.text);
    const closeTop = () => post("/ui/close", { view_id: view.id });
    const closeAll = () => post("/ui/close", { view_id: view.id, clear: true });
    const cancel = h("button", { class: "btn", type: "button", onclick: closeTop });
    cancel.innerHTML = plain(view.close?.text || (view.submit ? "Cancel" : "Close"));
    const body = h("div", { class: "modal-body" }, renderBlocks(view.blocks, ctx));
    const dialog = h("div", { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": view.title?.text || "Form", "data-callback-id": view.callback_id },
      h("div", { class: "modal-head" },
        depth > 1 ? h("button", { class: "icon-btn", "aria-label": "Back", onclick: closeTop }, "←") : null,
        h("span", { class: "app-icon" }, initials(S.data.app.name)),
        h("h2", { html: title }),
        h("button", { class: "icon-btn", "aria-label": "Close", onclick: closeAll }, "×")),
      body,
      h("div", { class: "modal-foot" }, cancel, submit));
    dialog.addEventListener("keydown", (e) => { if (e.key === "Escape") closeAll(); });
    root.replaceChildren(h("div", { class: "backdrop" }, dialog));
    const firstError = body.querySelector(".has-error .field");
    const focus = body.querySelector("[data-focus]") || firstError || (S.keys.modalFocused === view.id ? null : body.querySelector(".field"));
    S.keys.modalFocused = view.id;
    if (firstError || !typeOnIn(body, typing)) focus?.focus();
  }

  // --- start ----------------------------------------------------------------------------------
  $("#me").addEventListener("change", (e) => {
    S.me = e.target.value;
    S.drafts = {};
    if (S.tab !== "channel") S.channel = dmChannel();
    S.keys = {};
    remember();
    refresh();
  });
  // Message links (chat.getPermalink) open the channel and thread here rather than in a new tab.
  document.addEventListener("click", (e) => {
    const a = e.target.closest && e.target.closest("a[href]");
    if (!a) return;
    const url = new URL(a.href, location.href);
    const m = url.origin === location.origin && url.pathname.match(/^\/archives\/([A-Z0-9]+)\/p(\d{7,})$/);
    if (!m) return;
    e.preventDefault();
    const ts = url.searchParams.get("thread_ts") || `${m[2].slice(0, -6)}.${m[2].slice(-6)}`;
    go(m[1], "channel");
    S.thread = ts;
  }, true);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && S.thread && !S.data?.views.length) { S.thread = null; apply(S.data); }
  });
  pollLoop();
})();
