// nngrade mark: one question at a time across all students. Every change is one POST that
// the server commits before it answers; the page says "Saved" only then. Student text is
// shown through textContent, and answers as HTML the server made from markdown with raw
// HTML escaped (the Content-Security-Policy forbids any other script as well).
"use strict";

const state = { questions: [], qid: null, data: null, index: 0, ticked: new Set() };

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function status(text, bad) {
  const node = document.getElementById("status");
  node.textContent = text;
  node.className = bad ? "bad" : "";
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch("api/" + path, init);
  if (!response.ok) throw new Error(response.status + " " + response.statusText);
  return response.json();
}

function fmt(points) {
  return Number.isInteger(points) ? String(points) : points.toFixed(2).replace(/0+$/, "");
}

function current() { return state.data ? state.data.answers[state.index] : null; }

function pointsOf(answer) {
  const items = state.data.items.filter((i) => answer.marks.item.includes(i.id));
  const total = items.reduce((sum, i) => sum + i.points, 0);
  const max = state.questions.find((q) => q.id === state.qid).points;
  return Math.min(Math.max(total, 0), max);
}

function renderQuestions() {
  const nav = document.getElementById("questions");
  nav.replaceChildren();
  for (const q of state.questions) {
    const button = el("button", `${q.id} · ${q.marked}/${q.total} marked`);
    button.type = "button";
    button.dataset.qid = q.id;
    if (q.id === state.qid) button.setAttribute("aria-current", "true");
    button.addEventListener("click", () => openQuestion(q.id));
    nav.append(button);
  }
}

function renderStudents() {
  const list = document.getElementById("students");
  list.replaceChildren();
  state.data.answers.forEach((answer, i) => {
    const item = el("li");
    const box = el("input");
    box.type = "checkbox";
    box.checked = state.ticked.has(answer.submission);
    box.setAttribute("aria-label", "tick " + answer.label);
    box.addEventListener("change", () => tick(answer.submission, box.checked));
    const name = el("button", answer.label, "student");
    name.type = "button";
    const done = answer.marks.item.length > 0 && !answer.marks.changed;
    name.dataset.state = answer.marks.changed ? "changed" : done ? "marked" : "open";
    if (i === state.index) name.setAttribute("aria-current", "true");
    name.addEventListener("click", () => { state.index = i; render(); });
    item.append(box, name, el("span", done ? fmt(pointsOf(answer)) : "", "pts"));
    list.append(item);
  });
}

function renderAnswer() {
  const box = document.getElementById("answer");
  box.replaceChildren();
  const answer = current();
  if (!answer) { box.append(el("p", "No answers for this question.")); return; }
  const q = state.questions.find((x) => x.id === state.qid);
  const prompt = el("div", undefined, "prompt");
  prompt.innerHTML = q.prompt_html; // the template's markdown, rendered with raw HTML escaped
  const head = el("h2", `${answer.label} (${state.index + 1} of ${state.data.answers.length})`);
  head.id = "student-label";
  box.append(prompt, head);
  const notes = { missing: "No answer found in the notebook.", unchanged: "Left as the template had it." };
  if (notes[answer.state]) box.append(el("p", notes[answer.state], "note"));
  if (answer.marks.changed) {
    box.append(el("p", "The answer changed after it was marked: check the marks, then press Enter to keep them.", "note bad"));
  }
  const text = el("div", undefined, "text");
  text.id = "answer-text";
  text.innerHTML = answer.html; // made by the server from markdown with raw HTML escaped
  box.append(text);
  const auto = el("div", undefined, "auto");
  if (answer.autograded) {
    const a = answer.autograded;
    auto.append(el("h3", `Autograded: ${fmt(a.score)} / ${fmt(a.max_score)} (${a.status})`));
    if (a.failed.length) auto.append(el("p", "Failed: " + a.failed.join("; ")));
  }
  box.append(auto);
  const marked = answer.marks.item.length > 0;
  const words = marked ? `${fmt(pointsOf(answer))} / ${fmt(q.points)}` : `not marked yet (out of ${fmt(q.points)})`;
  const total = el("p", "Written answer: " + words, "total");
  total.id = "written-points";
  box.append(total);
}

function renderRubric() {
  const answer = current();
  const items = document.getElementById("items");
  items.replaceChildren();
  state.data.items.forEach((item, i) => {
    const li = el("li");
    const box = el("input");
    box.type = "checkbox";
    box.id = "item-" + item.id;
    box.checked = !!answer && answer.marks.item.includes(item.id);
    box.disabled = !answer;
    box.addEventListener("change", () => apply("item", item.id, box.checked));
    const label = el("label", `${i < 9 ? i + 1 + ". " : ""}${item.label} (${item.points >= 0 ? "+" : ""}${fmt(item.points)})`);
    label.htmlFor = box.id;
    const edit = el("button", "edit", "edit");
    edit.type = "button";
    edit.title = "Change this item for every answer it is applied to";
    edit.addEventListener("click", () => editItem(item));
    li.append(box, label, edit);
    items.append(li);
  });
  const comments = document.getElementById("comments");
  comments.replaceChildren();
  for (const comment of state.data.comments) {
    const li = el("li");
    const box = el("input");
    box.type = "checkbox";
    box.id = "comment-" + comment.id;
    box.checked = !!answer && answer.marks.comment.includes(comment.id);
    box.disabled = !answer;
    box.addEventListener("change", () => apply("comment", comment.id, box.checked));
    const label = el("label", comment.text);
    label.htmlFor = box.id;
    li.append(box, label);
    comments.append(li);
  }
}

async function editItem(item) {
  const label = window.prompt("Rubric item (changes it for every answer it is applied to):", item.label);
  if (label === null || !label.trim()) return;
  const points = Number(window.prompt("Points (negative to take off):", String(item.points)));
  if (!Number.isFinite(points)) { status("Not saved: the points must be a number", true); return; }
  try {
    await api("item", { question: state.qid, id: item.id, label, points });
    status("Saved");
  } catch (error) {
    status("Not saved: " + error.message, true);
  }
  await refresh();
}

function render() { renderQuestions(); renderStudents(); renderAnswer(); renderRubric(); }

function tick(submission, on) {
  if (on) state.ticked.add(submission); else state.ticked.delete(submission);
  renderStudents();
}

// The ticked students, or the one on screen: what an item or a comment applies to.
function targets() {
  const answer = current();
  const set = new Set(state.ticked);
  if (answer) set.add(answer.submission);
  return [...set];
}

async function apply(kind, ref, applied) {
  const submissions = targets();
  status("Saving…");
  try {
    await api("mark", { question: state.qid, submissions, kind, ref, applied });
    status(`Saved (${submissions.length} ${submissions.length === 1 ? "answer" : "answers"})`);
  } catch (error) {
    status("Not saved: " + error.message + ". Is nngrade mark still running?", true);
  }
  await refresh();
}

async function refresh() {
  try {
    const [overview, data] = await Promise.all([api("state"), api("question/" + encodeURIComponent(state.qid))]);
    // The student on screen now, not when the request left: the marker may have moved on.
    const keep = current() ? current().submission : null;
    state.questions = overview.questions;
    state.data = data;
    const found = data.answers.findIndex((a) => a.submission === keep);
    state.index = found >= 0 ? found : Math.min(state.index, Math.max(data.answers.length - 1, 0));
  } catch (error) {
    status("Could not load: " + error.message, true);
  }
  render();
}

async function openQuestion(qid) {
  state.qid = qid;
  state.index = 0;
  state.ticked.clear();
  await refresh();
}

function move(step) {
  if (!state.data || !state.data.answers.length) return;
  state.index = Math.min(Math.max(state.index + step, 0), state.data.answers.length - 1);
  render();
}

async function onKey(event) {
  if (event.target.closest("input, textarea") && event.target.type !== "checkbox") {
    if (event.key === "Escape") event.target.blur(); // back to the keys that mark
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const answer = current();
  if (event.key === "j" || event.key === "ArrowDown" || event.key === "ArrowRight") move(1);
  else if (event.key === "k" || event.key === "ArrowUp" || event.key === "ArrowLeft") move(-1);
  else if (/^[1-9]$/.test(event.key) && answer) {
    const item = state.data.items[Number(event.key) - 1];
    if (item) await apply("item", item.id, !answer.marks.item.includes(item.id));
  } else if (event.key === "x" && answer) tick(answer.submission, !state.ticked.has(answer.submission));
  else if (event.key === "c") document.querySelector("#new-comment input").focus();
  else if (event.key === "Enter" && answer && answer.marks.changed) {
    await api("confirm", { question: state.qid, submission: answer.submission });
    status("Saved: marks kept for the new answer");
    await refresh();
  } else return;
  event.preventDefault();
}

function onForm(id, send) {
  document.getElementById(id).addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      await send(form);
      form.reset();
      status("Saved");
    } catch (error) {
      status("Not saved: " + error.message, true);
    }
    await refresh();
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  document.addEventListener("keydown", onKey);
  onForm("new-item", (f) => api("item", { question: state.qid, label: f.label.value, points: Number(f.points.value) }));
  onForm("new-comment", async (f) => {
    const made = await api("comment", { question: state.qid, text: f.text.value });
    if (current()) await api("mark", { question: state.qid, submissions: targets(), kind: "comment", ref: made.id, applied: true });
  });
  document.getElementById("export").addEventListener("click", async () => {
    status("Writing the exports…");
    try {
      const done = await api("export", {});
      status("Exports written: " + done.written.map((w) => w[0]).join(", "));
    } catch (error) {
      status("Export failed: " + error.message, true);
    }
  });
  // Another tab may have marked meanwhile: show its marks when this one comes back.
  document.addEventListener("visibilitychange", () => { if (!document.hidden && state.qid) refresh(); });
  const overview = await api("state");
  state.questions = overview.questions;
  if (state.questions.length) await openQuestion(state.questions[0].id);
  else document.getElementById("answer").append(el("p", "This assignment's template has no written-answer cells."));
});
