// Slack text formatting to safe HTML: mrkdwn, plain_text with emoji, rich_text and <!date> tokens.
// Everything the bot wrote is escaped first; only the markup built here reaches innerHTML.
"use strict";
(function () {
  const ENTITY = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ENTITY[c]);
  // Slack stores &, < and > in message text as entities; show them as characters.
  const decode = (s) => String(s ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

  let lookup = { user: (id) => null, channel: (id) => null, usergroup: (id) => null };
  function setLookup(fns) { lookup = { ...lookup, ...fns }; }

  function emojify(html) {
    return html.replace(/:([a-z0-9_+\-]+):(?::skin-tone-\d:)?/g, (whole, name) => {
      const e = window.EMOJI && window.EMOJI[name];
      return e ? `<span class="emoji" title=":${name}:">${e}</span>` : whole;
    });
  }

  function plain(text, emoji = true) {
    const html = esc(text);
    return emoji ? emojify(html) : html;
  }

  function safeUrl(url) {
    const u = String(url || "").trim();
    return /^(https?:|mailto:|tel:)/i.test(u) ? u : null;
  }

  function pad(n) { return String(n).padStart(2, "0"); }

  // <!date^1700000000^{date_short} at {time}|fallback>
  function formatDate(epoch, format) {
    const d = new Date(Number(epoch) * 1000);
    if (Number.isNaN(d.getTime())) return null;
    const day = (opts) => d.toLocaleDateString(undefined, opts);
    const time = d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
    const today = new Date();
    const diffDays = Math.round((new Date(d.toDateString()) - new Date(today.toDateString())) / 86400000);
    const pretty = (fallback) => (diffDays === 0 ? "today" : diffDays === -1 ? "yesterday" : diffDays === 1 ? "tomorrow" : fallback);
    const tokens = {
      date_num: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
      date: day({ month: "long", day: "numeric", year: "numeric" }),
      date_short: day({ month: "short", day: "numeric", year: "numeric" }),
      date_long: day({ weekday: "long", month: "long", day: "numeric", year: "numeric" }),
      time,
      time_secs: d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit" }),
    };
    tokens.date_pretty = pretty(tokens.date);
    tokens.date_short_pretty = pretty(tokens.date_short);
    tokens.date_long_pretty = pretty(tokens.date_long);
    const secs = Math.round((Date.now() - d.getTime()) / 1000);
    const mins = Math.round(Math.abs(secs) / 60);
    const span = mins < 60 ? `${mins} minute${mins === 1 ? "" : "s"}` : mins < 1440 ? `${Math.round(mins / 60)} hours` : `${Math.round(mins / 1440)} days`;
    tokens.ago = secs >= 0 ? `${span} ago` : `in ${span}`;
    return format.replace(/\{(\w+)\}/g, (w, k) => (k in tokens ? tokens[k] : w));
  }

  function angle(inner) {
    const [target, ...rest] = inner.split("|");
    const label = rest.join("|");
    if (target.startsWith("@")) {
      const user = lookup.user(target.slice(1));
      const name = user ? user.real_name || user.name : label || target.slice(1);
      return `<span class="mention">@${esc(decode(name))}</span>`;
    }
    if (target.startsWith("#")) {
      const channel = lookup.channel(target.slice(1));
      return `<span class="mention channel">#${esc(decode(channel ? channel.name : label || target.slice(1)))}</span>`;
    }
    if (target.startsWith("!")) {
      const [kind, arg, format, link] = target.slice(1).split("^");
      if (kind === "date") {
        const text = formatDate(arg, format || "{date}");
        const shown = esc(text ?? decode(label));
        const href = safeUrl(link);
        return href ? `<a href="${esc(href)}" target="_blank" rel="noopener">${shown}</a>` : shown;
      }
      if (kind === "subteam") {
        const group = lookup.usergroup(arg);
        return `<span class="mention">${esc(decode(label || (group ? "@" + group.handle : "@group")))}</span>`;
      }
      return `<span class="mention">@${esc(label || kind)}</span>`;
    }
    const href = safeUrl(decode(target));
    const text = esc(decode(label || target.replace(/^mailto:/, "")));
    return href ? `<a href="${esc(href)}" target="_blank" rel="noopener">${text}</a>` : text;
  }

  // Slack's mrkdwn: *bold*, _italic_, ~strike~, `code`, ```pre```, > quotes, <links>, emoji.
  function mrkdwn(text) {
    if (!text) return "";
    const held = [];
    const hold = (html) => `\u0000${held.push(html) - 1}\u0000`;
    let s = String(text);
    s = s.replace(/```\n?([\s\S]*?)```/g, (w, code) => hold(`<pre>${esc(decode(code))}</pre>`));
    s = s.replace(/`([^`\n]+)`/g, (w, code) => hold(`<code>${esc(decode(code))}</code>`));
    s = s.replace(/<([^<>\n]+)>/g, (w, inner) => hold(angle(inner)));
    s = esc(decode(s));
    const around = (mark, tag) => {
      const m = mark === "*" ? "\\*" : mark;
      const re = new RegExp(`(^|[^\\w${m}])${m}(?=\\S)([^${m}\\n]*?\\S)${m}(?![\\w${m}])`, "g");
      s = s.replace(re, `$1<${tag}>$2</${tag}>`);
    };
    around("*", "b");
    around("_", "i");
    around("~", "s");
    s = emojify(s);
    const lines = s.split("\n");
    const out = [];
    let quote = [];
    const flush = () => { if (quote.length) { out.push(`<blockquote>${quote.join("<br>")}</blockquote>`); quote = []; } };
    for (const line of lines) {
      const q = line.match(/^&gt;\s?(.*)$/);
      if (q) { quote.push(q[1]); continue; }
      flush();
      out.push(line);
    }
    flush();
    s = out.join("\n").replace(/\n/g, "<br>").replace(/<\/blockquote><br>/g, "</blockquote>").replace(/<br>(<blockquote>)/g, "$1");
    return s.replace(/\u0000(\d+)\u0000/g, (w, i) => held[Number(i)]);
  }

  // Block Kit's newer `markdown` block takes standard Markdown; the common subset is enough here.
  function markdown(text) {
    const s = String(text || "")
      .replace(/^#{1,6}\s+(.*)$/gm, "*$1*")
      .replace(/\*\*(.+?)\*\*/g, "*$1*")
      .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, "<$2|$1>");
    return mrkdwn(s);
  }

  function styled(html, style) {
    if (!style) return html;
    if (style.code) html = `<code>${html}</code>`;
    if (style.bold) html = `<b>${html}</b>`;
    if (style.italic) html = `<i>${html}</i>`;
    if (style.strike) html = `<s>${html}</s>`;
    return html;
  }

  function richInline(elements) {
    return (elements || []).map((el) => {
      switch (el.type) {
        case "text": return styled(esc(el.text).replace(/\n/g, "<br>"), el.style);
        case "link": {
          const href = safeUrl(el.url);
          const text = esc(el.text || el.url);
          return styled(href ? `<a href="${esc(href)}" target="_blank" rel="noopener">${text}</a>` : text, el.style);
        }
        case "user": return angle("@" + el.user_id);
        case "channel": return angle("#" + el.channel_id);
        case "usergroup": return angle("!subteam^" + el.usergroup_id);
        case "broadcast": return `<span class="mention">@${esc(el.range)}</span>`;
        case "emoji": return el.unicode ? String.fromCodePoint(...el.unicode.split("-").map((h) => parseInt(h, 16))) : emojify(`:${esc(el.name)}:`);
        case "date": return esc(formatDate(el.timestamp, el.format || "{date}") || el.fallback || "");
        default: return "";
      }
    }).join("");
  }

  function richText(block) {
    return (block.elements || []).map((part) => {
      switch (part.type) {
        case "rich_text_section": return `<div>${richInline(part.elements)}</div>`;
        case "rich_text_preformatted": return `<pre>${richInline(part.elements)}</pre>`;
        case "rich_text_quote": return `<blockquote>${richInline(part.elements)}</blockquote>`;
        case "rich_text_list": {
          const tag = part.style === "ordered" ? "ol" : "ul";
          const items = (part.elements || []).map((s) => `<li>${richInline(s.elements)}</li>`).join("");
          return `<${tag} style="margin-left:${(part.indent || 0) * 18}px">${items}</${tag}>`;
        }
        default: return "";
      }
    }).join("");
  }

  window.Mrkdwn = { esc, decode, plain, mrkdwn, markdown, richText, emojify, formatDate, setLookup };
})();
