// arabictopics page: sends the article to POST /v1/classify on this server and shows the answer.
// No framework, no build step, no network beyond this server; the article is only ever set as text, never parsed as HTML.
"use strict";

const PALETTE = [
  "#d1242f", "#0969da", "#1a7f37", "#8250df", "#bf8700", "#cf5a00",
  "#0a7d8c", "#bf3989", "#57606a", "#6e7f00", "#3e4bd1", "#8c4a2f",
];

const state = { themes: [], byLabel: new Map() };
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "colour") node.style.setProperty("--c", value);
    else if (key.startsWith("data-") || key === "title" || key === "type" || key === "lang" || key === "dir") {
      node.setAttribute(key, value);
    } else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function colour(label) {
  const theme = state.byLabel.get(label);
  return theme ? theme.colour : PALETTE[PALETTE.length - 1];
}

async function loadThemes() {
  try {
    const [themes, model] = await Promise.all([
      fetch("v1/themes").then((r) => r.json()),
      fetch("v1/model").then((r) => r.json()),
    ]);
    state.themes = themes.themes.map((theme, i) => ({ ...theme, colour: PALETTE[i % PALETTE.length] }));
    state.byLabel = new Map(state.themes.map((theme) => [theme.label, theme]));
    const meta = model.metadata || {};
    const version = meta.arabictopics_version || meta.library_version || "";
    $("model").textContent =
      `Model: ${state.themes.length} themes` + (version ? `, arabictopics ${version}` : "") +
      (meta.created ? `, built ${String(meta.created).slice(0, 10)}` : "");
  } catch (error) {
    setStatus(`Cannot reach the server: ${error.message}`, true);
  }
}

function setStatus(message, isError = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

async function classify() {
  const text = $("article").value;
  if (!text.trim()) {
    setStatus("Paste or drop an article first.", true);
    return;
  }
  const button = $("classify");
  button.disabled = true;
  setStatus("Classifying…");
  const started = performance.now();
  try {
    const response = await fetch("v1/classify", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text, id: "page", with_text: true }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    render(answer);
    const ms = Math.round(performance.now() - started);
    setStatus(`Done in ${ms} ms` + (answer.truncated ? " — the article was cut: only its beginning was read." : "."));
  } catch (error) {
    setStatus(error.message, true);
  } finally {
    button.disabled = false;
  }
}

function themeButton(label, score, level) {
  const theme = state.byLabel.get(label) || { label, threshold: null };
  const pct = Math.max(0, Math.min(100, score * 100));
  const bar = el("div", { class: "bar", title: `score ${score.toFixed(2)}` }, [el("div", { class: "fill" })]);
  bar.firstChild.style.width = `${pct}%`;
  if (theme.threshold != null) {
    const cut = el("div", { class: "cut", title: `threshold ${theme.threshold.toFixed(2)}` });
    cut.style.left = `calc(${Math.max(0, Math.min(100, theme.threshold * 100))}% - 1px)`;
    bar.append(cut);
  }
  const button = el(level === "score" ? "div" : "button", {
    class: "theme", colour: colour(label), "data-theme": label, "data-level": level,
    title: level === "score" ? "" : "Show the sentence",
  }, [
    el("span", { class: "name" }, [
      el("span", { class: "label", text: theme.name_en || label }),
      el("span", { class: "score", text: score.toFixed(2) }),
    ]),
    el("span", { class: "name-ar", lang: "ar", dir: "rtl", text: theme.name_ar || "" }),
    bar,
  ]);
  if (level !== "score") {
    button.type = "button";
    button.addEventListener("click", () => showEvidence(label));
  }
  return el("li", {}, [button]);
}

function showEvidence(label) {
  const marks = document.querySelectorAll(`mark.evidence[data-themes~="${CSS.escape(label)}"]`);
  if (!marks.length) {
    setStatus(`No sentence of the article is quoted for ${label}.`);
    return;
  }
  marks[0].scrollIntoView({ behavior: "smooth", block: "center" });
  for (const mark of marks) {
    mark.classList.remove("flash");
    void mark.offsetWidth;  // restart the flash
    mark.classList.add("flash");
    setTimeout(() => mark.classList.remove("flash"), 1600);
  }
}

// The article as read, each quoted sentence marked in its theme's colour (labels first, then named themes).
function renderText(text, quotes) {
  const ranges = [];
  for (const { label, sentence, level } of quotes) {
    if (!sentence) continue;
    const start = text.indexOf(sentence);
    if (start < 0) continue;
    const end = start + sentence.length;
    const same = ranges.find((r) => r.start === start && r.end === end);
    if (same) {
      same.themes.push({ label, level });
    } else if (!ranges.some((r) => start < r.end && r.start < end)) {
      ranges.push({ start, end, themes: [{ label, level }] });
    }
  }
  ranges.sort((a, b) => a.start - b.start);
  const article = $("text");
  article.replaceChildren();
  let at = 0;
  for (const range of ranges) {
    if (range.start > at) article.append(text.slice(at, range.start));
    const first = range.themes[0];
    const mark = el("mark", {
      class: `evidence ${first.level}`, colour: colour(first.label),
      "data-themes": range.themes.map((t) => t.label).join(" "),
      title: range.themes.map((t) => `${t.label} (${t.level === "about" ? "about" : "named"})`).join(", "),
    }, [text.slice(range.start, range.end)]);
    for (const theme of range.themes) {
      mark.append(el("span", { class: "tag", colour: colour(theme.label), text: theme.label }));
    }
    article.append(mark);
    at = range.end;
  }
  if (at < text.length) article.append(text.slice(at));
}

function render(answer) {
  const about = $("about");
  const named = $("named");
  about.replaceChildren(...answer.labels.map((label) => themeButton(label, answer.scores[label] ?? 0, "about")));
  const mentions = Object.keys(answer.mentions || {});
  named.replaceChildren(...mentions.map((label) => themeButton(label, answer.scores[label] ?? 0, "named")));
  $("about-none").hidden = answer.labels.length > 0;
  $("named-none").hidden = mentions.length > 0;
  const all = Object.entries(answer.scores).sort((a, b) => b[1] - a[1]);
  $("scores").replaceChildren(...all.map(([label, score]) => themeButton(label, score, "score")));
  const quotes = [
    ...answer.labels.map((label) => ({ label, sentence: (answer.evidence || {})[label], level: "about" })),
    ...mentions.map((label) => ({ label, sentence: answer.mentions[label], level: "named" })),
  ];
  renderText(answer.text ?? $("article").value, quotes);
  $("results").hidden = false;
}

function readFile(file) {
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    $("article").value = reader.result;
    classify();
  };
  reader.onerror = () => setStatus(`Cannot read ${file.name}.`, true);
  reader.readAsText(file, "utf-8");
}

function setUp() {
  $("classify").addEventListener("click", classify);
  $("clear").addEventListener("click", () => {
    $("article").value = "";
    $("results").hidden = true;
    setStatus("");
    $("article").focus();
  });
  $("article").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      classify();
    }
  });
  $("file").addEventListener("change", (event) => readFile(event.target.files[0]));
  const drop = $("drop");
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer.files[0];
    if (file) {
      readFile(file);
      return;
    }
    const html = event.dataTransfer.getData("text/html");
    $("article").value = html || event.dataTransfer.getData("text/plain");
    classify();
  });
  loadThemes();
}

setUp();
