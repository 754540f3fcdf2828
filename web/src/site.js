// Every page of the site: the chapter's Python blocks become cells that run in the page
// (in order, sharing one interpreter, like a notebook), and a free cell at the end runs
// whatever the learner types. The exercises page and the playground add their own parts.
import { python } from "./python.js";
import { makeEditor } from "./editor.js";
import { element, showAnswer, showError, textSink } from "./output.js";

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content || "";
const PAGE = meta("micrograd-page");
const ASSETS = meta("micrograd-assets");

const statusLine = element("span", { class: "mg-status", "data-testid": "python-status" });
const setStatus = (text) => { statusLine.textContent = text; };
const py = () => python(setStatus);
const cells = [];
let stopButton = null;

// Run one piece of code in the page's Python; its output goes into `output` (emptied
// first). Returns true when it ran without an error.
export async function runCode(code, output, where) {
  output.replaceChildren();
  output.classList.add("mg-running");
  if (stopButton) stopButton.disabled = false;
  try {
    await py().ready;
    const answer = await py().call("run_cell", [code, where], textSink(output));
    showAnswer(output, answer);
    return !answer.error;
  } catch (error) {
    showError(output, String(error.message || error));
    return false;
  } finally {
    output.classList.remove("mg-running");
    if (stopButton) stopButton.disabled = py().busy;
  }
}

function makeCell(pre, block, index) {
  const bar = element("div", { class: "mg-cell-bar" });
  const run = element("button", { class: "md-button mg-run", "data-testid": "cell-run",
                                  type: "button" }, "Run");
  const output = element("div", { class: "mg-cell-output", "data-testid": "cell-output",
                                   "aria-live": "polite" });
  bar.append(run);
  const cell = { block, output, run: () => runCode(block.code, output, `block ${index + 1}`) };
  if (block.tags.includes("torch")) {
    run.disabled = true;
    bar.append(element("span", { class: "mg-note" },
                       "needs PyTorch, which does not run in the browser: read it here, run it at home"));
    cell.run = async () => true;
  }
  run.addEventListener("click", () => cell.run());
  pre.after(bar, output);
  return cell;
}

function markRecorded(pre) {
  pre.classList.add("mg-recorded");
  pre.before(element("div", { class: "mg-recorded-label" }, "recorded output"));
}

// Find each fenced block of the source among the page's rendered code blocks, in order, by
// its text (an indented code block, which has no fence, is passed over). build.py checks
// at build time that every one is found.
export function matchBlocks(blocks, rendered) {
  const text = (node) => (node.querySelector("code") || node).textContent.trim();
  const found = [];
  let next = 0;
  for (const block of blocks) {
    const want = block.code.trim();
    while (next < rendered.length && text(rendered[next]) !== want) next += 1;
    if (next === rendered.length) return null;
    found.push(rendered[next]);
    next += 1;
  }
  return found;
}

async function setUpCells() {
  if (!PAGE) return;
  const response = await fetch(`${ASSETS}blocks/${PAGE}.json`);
  if (!response.ok) return;
  const blocks = await response.json();
  const rendered = matchBlocks(blocks, [...document.querySelectorAll("article pre")]);
  if (rendered === null) {
    setStatus("this page's code blocks do not match its source: rebuild the site");
    return;
  }
  blocks.forEach((block, i) => {
    const place = rendered[i].closest("div.highlight") || rendered[i];
    if (block.kind === "python") cells.push(makeCell(place, block, cells.length));
    else if (block.kind === "output") markRecorded(place);
  });
  if (cells.length) addToolbar();
}

function addToolbar() {
  const bar = element("div", { class: "mg-toolbar" });
  const runAll = element("button", { class: "md-button md-button--primary", type: "button",
                                     "data-testid": "run-all" }, "Run all");
  stopButton = element("button", { class: "md-button", type: "button", "data-testid": "stop",
                                    disabled: "" }, "Stop");
  const full = element("input", { type: "checkbox", "data-testid": "full-runs" });
  const fullLabel = element("label", { class: "mg-switch" });
  fullLabel.append(full, " full training runs (minutes; off: the quick runs the tests use)");
  bar.append(runAll, stopButton, fullLabel, statusLine);
  runAll.addEventListener("click", async () => {
    runAll.disabled = true;
    for (const cell of cells) {
      if (!(await cell.run())) break;   // like a notebook: stop at the first error
    }
    runAll.disabled = false;
  });
  stopButton.addEventListener("click", () => {
    py().restart("stopped: Python was restarted, so the names made by the blocks above are " +
                 "gone; run them again (Run all)");
    stopButton.disabled = true;
    py().ready.then(() => py().call("set_quick", [!full.checked]));
  });
  full.addEventListener("change", async () => {
    await py().ready;
    await py().call("set_quick", [!full.checked]);
  });
  const heading = document.querySelector("article h1");
  (heading || document.querySelector("article")).after(bar);
}

function addScratch() {
  const article = document.querySelector("article");
  if (!article) return;
  const box = element("section", { class: "mg-scratch" });
  box.append(element("h2", { id: "your-own-code" }, "Your own code"),
             element("p", {}, "Type any Python and run it (Shift+Enter). It shares the " +
                     "page's interpreter: the names the blocks above made are here."));
  const holder = element("div", { class: "mg-editor" });
  const output = element("div", { class: "mg-cell-output", "data-testid": "scratch-output",
                                  "aria-live": "polite" });
  const run = element("button", { class: "md-button md-button--primary", type: "button",
                                  "data-testid": "scratch-run" }, "Run");
  const go = () => runCode(editor.text, output, "your code");
  const editor = makeEditor(holder, "from micrograd_gpt import Value\n\nx = Value(3.0)\n" +
                            "y = x * x + 2 * x\ny.backward()\nprint(y, x.grad)\n",
                            { onRun: go, testid: "scratch-input" });
  run.addEventListener("click", go);
  box.append(holder, run, output);
  if (!cells.length) box.append(statusLine);
  article.append(box);
}

async function main() {
  py();   // start Python first: it takes seconds, best spent while the page is read
  await setUpCells();
  if (PAGE === "exercises") {
    const { setUpExercises } = await import("./exercises.js");
    await setUpExercises(py, setStatus);
  } else if (PAGE === "playground") {
    const { setUpPlayground } = await import("./playground.js");
    await setUpPlayground(py, setStatus);
  }
  addScratch();
}

main();
