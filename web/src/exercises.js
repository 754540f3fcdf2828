// The exercises page: pick an exercise, edit its file in the editor, press Check. The check
// is the tutor of `micrograd-gpt exercise check`, run in the page's Python, and the report
// is the text that command prints. Your file is kept in this browser (localStorage) and can
// be downloaded as the .py file the command line checks.
import { makeEditor } from "./editor.js";
import { element } from "./output.js";

// A check still running after this many seconds is stopped (an endless loop?): 30, as the
// command line's --timeout, unless the page's address says `?check-seconds=N` (for tests).
const CHECK_SECONDS = Number(new URLSearchParams(location.search).get("check-seconds")) || 30;
const storageKey = (number) => `micrograd-gpt/exercise/${number}`;

function saved(exercise) {
  try {
    return localStorage.getItem(storageKey(exercise.number));
  } catch {
    return null;   // storage switched off: the work lasts as long as the page
  }
}

function keep(exercise, text) {
  try {
    localStorage.setItem(storageKey(exercise.number), text);
  } catch {
    // storage full or switched off: nothing to do but carry on
  }
}

function download(filename, text) {
  const link = element("a", { download: filename });
  link.href = URL.createObjectURL(new Blob([text], { type: "text/x-python" }));
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function layout(app) {
  const parts = {
    picker: element("select", { "data-testid": "exercise-picker", "aria-label": "exercise" }),
    holder: element("div", { class: "mg-editor mg-exercise-editor" }),
    check: element("button", { class: "md-button md-button--primary", type: "button",
                               "data-testid": "exercise-check" }, "Check"),
    reset: element("button", { class: "md-button", type: "button",
                               "data-testid": "exercise-reset" }, "Start again from the stub"),
    save: element("button", { class: "md-button", type: "button",
                              "data-testid": "exercise-download" }, "Download .py"),
    report: element("pre", { class: "mg-report", "data-testid": "exercise-report",
                             "aria-live": "polite" }),
  };
  const bar = element("div", { class: "mg-cell-bar" });
  bar.append(parts.check, parts.reset, parts.save);
  app.append(parts.picker, parts.holder, bar, parts.report);
  return parts;
}

export async function setUpExercises(py, setStatus) {
  const app = document.getElementById("exercise-app");
  if (!app) return;
  const parts = layout(app);
  parts.report.textContent = "Starting Python…";
  await py().ready;
  const list = await py().call("exercise_list");
  for (const e of list) {
    parts.picker.append(element("option", { value: e.number },
                                `${e.number}. ${e.title} (chapter ${e.chapter})`));
  }
  let current = list[0];
  const editor = makeEditor(parts.holder, saved(current) ?? current.stub, {
    testid: "exercise-editor", onRun: () => parts.check.click(),
    onChange: (text) => keep(current, text),
  });
  parts.report.textContent = `Edit ${current.filename} above, then press Check.`;
  parts.picker.addEventListener("change", () => {
    current = list.find((e) => String(e.number) === parts.picker.value);
    editor.text = saved(current) ?? current.stub;
    parts.report.textContent = `Edit ${current.filename} above, then press Check.`;
  });
  parts.reset.addEventListener("click", () => {
    editor.text = current.stub;
    keep(current, current.stub);
  });
  parts.save.addEventListener("click", () => download(current.filename, editor.text));
  parts.check.addEventListener("click", () => check(py, parts, current, editor.text));
}

async function check(py, parts, exercise, text) {
  parts.check.disabled = true;
  parts.report.textContent = `checking exercises/${exercise.filename}…`;
  await py().ready.catch(() => {});   // the clock starts once Python is there
  const timer = setTimeout(() => py().restart(
    `Your code ran for more than ${CHECK_SECONDS} s and was stopped (an endless loop?). ` +
    "Python was restarted; fix the loop and press Check again."), CHECK_SECONDS * 1000);
  try {
    const answer = await py().call("check_exercise", [exercise.number, text]);
    parts.report.textContent = answer.report;
    parts.report.classList.toggle("mg-passed", answer.passed);
  } catch (error) {
    parts.report.textContent = String(error.message || error);
  } finally {
    clearTimeout(timer);
    parts.check.disabled = false;
  }
}
