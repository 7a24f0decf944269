// Files on the page: files shown in messages (name, size, type, a download link; images inline),
// the composer's attach button (shares a file in the channel or thread, with what is typed as its
// message) and the picker of a modal's file_input (uploads privately for the form). app.js hands in
// its helpers with init().
"use strict";
window.EmuFiles = (function () {
  let ui = null; // { h, toast, me }

  const ICONS = { csv: "📊", xlsx: "📊", xls: "📊", pdf: "📕", txt: "📄", zip: "🗜" };
  function size(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  async function upload(file, fields) {
    const form = new FormData();
    form.append("user", ui.me());
    for (const [k, v] of Object.entries(fields)) if (v) form.append(k, v);
    form.append("file", file, file.name);
    let answer;
    try {
      answer = await (await fetch("/ui/upload", { method: "POST", body: form })).json();
    } catch (e) {
      ui.toast("The emulator did not answer; is telecrm-bot still running?");
      return { ok: false };
    }
    if (!answer.ok) ui.toast(answer.error || "The upload did not work");
    return answer;
  }

  // The files of a message.
  function list(files) {
    const { h } = ui;
    if (!files || !files.length) return null;
    return h("div", { class: "msg-files" }, files.map((f) => {
      const href = `/ui/files/${encodeURIComponent(f.id)}`;
      const image = /^image\//.test(f.mimetype || "");
      return h("div", { class: "file-card", "data-testid": "file", "data-file-id": f.id },
        image ? h("img", { class: "file-img", src: href, alt: f.title || f.name }) : h("span", { class: "file-icon", "aria-hidden": "true" }, ICONS[f.filetype] || "📄"),
        h("div", { class: "file-meta" },
          h("div", { class: "file-name" }, f.title || f.name),
          h("div", { class: "muted small" }, `${f.pretty_type || (f.filetype || "").toUpperCase()} · ${size(f.size || 0)}`)),
        h("a", { class: "linkish file-download", href: href + "?download=1", download: f.name, "aria-label": `Download ${f.name}` }, "Download"));
    }));
  }

  // The composer's 📎: the chosen file is shared at once, with the composer's text as its message.
  function attachButton({ channel, thread_ts, input }) {
    const { h } = ui;
    const chooser = h("input", { type: "file", hidden: true, "aria-label": "Attach a file" });
    chooser.addEventListener("change", async () => {
      const file = chooser.files[0];
      if (!file) return;
      const text = input.value;
      input.value = "";
      const answer = await upload(file, { purpose: "share", channel: channel(), text, thread_ts });
      if (!answer.ok && !input.value) input.value = text;
      chooser.value = "";
    });
    return h("span", {}, chooser, h("button", { class: "attach", type: "button", title: "Attach a file", "aria-label": "Attach", onclick: () => chooser.click() }, "📎"));
  }

  // A file_input: chosen files are uploaded for the form; the value is their file objects.
  function picker(el, value, change, common) {
    const { h } = ui;
    let chosen = [...(value || [])];
    const most = el.max_files || 10;
    const accept = (el.filetypes || []).map((t) => "." + String(t).replace(/^\./, "")).join(",");
    const chips = h("div", { class: "chips" });
    const input = h("input", { ...common, class: "field", type: "file", accept: accept || null, multiple: most > 1, "data-action-id": el.action_id });
    const draw = () => chips.replaceChildren(...chosen.map((f, i) => h("span", { class: "chip", "data-testid": "picked-file" }, `${f.name} · ${size(f.size || 0)}`,
      h("button", { class: "chip-x", type: "button", "aria-label": `Remove ${f.name}`, onclick: () => { chosen.splice(i, 1); draw(); change([...chosen], false); } }, "×"))));
    input.addEventListener("change", async () => {
      for (const file of [...input.files]) {
        const answer = await upload(file, { purpose: "modal" });
        if (answer.ok) chosen.push(answer.file);
      }
      input.value = "";
      draw();
      change([...chosen], false);
    });
    draw();
    return h("div", { class: "file-picker" }, chips, input,
      h("div", { class: "muted small" }, `Up to ${most} file${most === 1 ? "" : "s"}${accept ? ` (${accept})` : ""}, 10 MB each`));
  }

  return { init: (helpers) => { ui = helpers; }, list, attachButton, picker };
})();
