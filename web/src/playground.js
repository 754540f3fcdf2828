// The playground page: an expression explorer, training in the tab, a look inside what was
// trained, and one training step as a picture. Every number and picture comes from the
// library running in the page's Python (playground.py); this file only lays them out and
// passes the clicks on. Training runs in slices of a quarter of a second, so a click on
// Pause or Stop is answered at once.
import { element, htmlFrame, safeSvg } from "./output.js";

const SLICE_SECONDS = 0.25;
let py = null;

function field(label, control) {
  const box = element("label", { class: "mg-field" });
  box.append(element("span", {}, label), control);
  return box;
}

function button(text, testid, primary = false) {
  return element("button", { type: "button", "data-testid": testid,
                             class: `md-button${primary ? " md-button--primary" : ""}` }, text);
}

function section(title, id) {
  const box = element("section", { class: "mg-panel", id });
  box.append(element("h2", {}, title));
  return box;
}

function showSvg(into, svg) {
  into.replaceChildren(safeSvg(svg));
}

function download(name, text) {
  const link = element("a", { download: name });
  link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// ---------------------------------------------------------------------------------------
// The expression explorer
// ---------------------------------------------------------------------------------------
function expressionExplorer() {
  const box = section("Type an expression, watch backward", "expression");
  const input = element("input", { "data-testid": "expr-input", value: "tanh(a*b + c)",
                                   spellcheck: "false", class: "mg-wide" });
  const values = element("input", { "data-testid": "expr-values", value: "a=2,b=-3,c=10",
                                    spellcheck: "false" });
  const labels = element("input", { type: "checkbox", "data-testid": "expr-edge-labels" });
  const draw = button("Draw", "expr-run", true);
  const error = element("div", { class: "mg-error", "data-testid": "expr-error", role: "alert" });
  const facts = element("div", { class: "mg-facts", "data-testid": "expr-facts" });
  const graph = element("div", { class: "mg-picture", "data-testid": "expr-graph" });
  const stepper = element("div", { "data-testid": "expr-trace" });
  const controls = element("div", { class: "mg-controls" });
  controls.append(field("expression", input), field("values", values),
                  field("local derivatives on the edges", labels), draw);
  box.append(element("p", {}, "Numbers, names, + - * / **, and exp log sqrt tanh sigmoid " +
                     "relu gelu abs: the grammar of micrograd-gpt graph. Boxes are Values " +
                     "(data and grad after backward()), ovals the operations."),
             controls, error, facts, graph,
             element("h3", {}, "backward(), one step at a time (← → Home End)"), stepper);

  let latest = 0;
  let timer = null;
  const run = async () => {
    clearTimeout(timer);
    const asked = ++latest;
    const answer = await py().call("playground.expression",
                                   [input.value, values.value, labels.checked]);
    if (asked !== latest) return;   // a newer expression was typed meanwhile
    error.textContent = answer.error || "";
    box.dataset.state = answer.error ? "error" : "drawn";
    if (answer.error) return;
    const grads = Object.entries(answer.grads).map(([n, g]) => `d out/d ${n} = ${g}`);
    facts.textContent = `${answer.nodes} Values; out = ${answer.output}; ${grads.join(", ")}`;
    showSvg(graph, answer.svg);
    stepper.replaceChildren(htmlFrame(answer.trace, "expr-stepper"));
  };
  const soon = () => { clearTimeout(timer); timer = setTimeout(run, 400); };
  for (const control of [input, values]) control.addEventListener("input", soon);
  labels.addEventListener("change", run);
  draw.addEventListener("click", run);
  for (const control of [input, values]) {
    control.addEventListener("keydown", (e) => { if (e.key === "Enter") run(); });
  }
  return { box, run };
}

// ---------------------------------------------------------------------------------------
// Training in the tab
// ---------------------------------------------------------------------------------------
function formatSeconds(seconds) {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

// The training panel's parts: what it shows, and the buttons.
function trainerLayout() {
  const box = section("Train a model in this tab", "train");
  const ui = {
    box,
    preset: element("select", { "data-testid": "train-preset" }),
    data: element("select", { "data-testid": "train-data" }),
    pasted: element("textarea", { "data-testid": "train-text", rows: "4", hidden: "",
                                  placeholder: "one document per line" }),
    start: button("Start", "train-start", true),
    pause: button("Pause", "train-pause"),
    stop: button("Stop", "train-stop"),
    save: button("Download checkpoint", "checkpoint-download"),
    upload: element("input", { type: "file", accept: ".json", "data-testid": "checkpoint-upload" }),
    curve: element("div", { class: "mg-picture", "data-testid": "train-curve" }),
    samples: element("ol", { class: "mg-samples", "data-testid": "train-samples" }),
    log: element("pre", { class: "mg-log", "data-testid": "train-log" }),
    error: element("div", { class: "mg-error", "data-testid": "train-error", role: "alert" }),
    shown: {},
  };
  for (const [value, text] of [["names", "names (5,163 first names)"],
                               ["text", "sonnets (Shakespeare)"], ["pasted", "your text"]]) {
    ui.data.append(element("option", { value }, text));
  }
  const stats = element("div", { class: "mg-stats" });
  for (const [key, label] of [["step", "step"], ["loss", "train loss (mean of the last 20 steps)"],
                              ["val", "validation loss"], ["speed", "speed"], ["eta", "time left"]]) {
    ui.shown[key] = element("span", { "data-testid": `train-${key}` }, "–");
    const item = element("div", {});
    item.append(element("small", {}, label), ui.shown[key]);
    stats.append(item);
  }
  const controls = element("div", { class: "mg-controls" });
  controls.append(field("model and preset", ui.preset), field("data", ui.data), ui.start,
                  ui.pause, ui.stop, ui.save,
                  field("load a checkpoint (from micrograd-gpt train)", ui.upload));
  box.append(controls, ui.pasted, ui.error, stats, ui.curve,
             element("h3", {}, "samples at each evaluation"), ui.samples, ui.log);
  return ui;
}

// Which buttons work in each state: idle, running, paused, stopping, stopped, finished.
function setState(ui, state) {
  ui.box.dataset.state = state;
  const going = state === "running" || state === "paused";
  ui.start.disabled = going || state === "stopping";
  ui.pause.disabled = ui.stop.disabled = !going;
  ui.pause.textContent = state === "paused" ? "Resume" : "Pause";
}

function showSamples(into, list) {
  into.replaceChildren(...list.map((s) => element("li", {}, s)));
}

function showProgress(ui, p, losses) {
  ui.shown.step.textContent = `${p.step} / ${p.steps}`;
  if (p.loss !== null) {
    losses.push(p.loss);
    const recent = losses.slice(-20);
    ui.shown.loss.textContent = (recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4);
  }
  if (p.val !== null) ui.shown.val.textContent = p.val.toFixed(4);
  ui.shown.speed.textContent = `${(1000 / Math.max(p.ms_per_step, 1e-3)).toFixed(1)} steps/s`;
  ui.shown.eta.textContent = formatSeconds(p.seconds_left);
  if (p.curve) showSvg(ui.curve, p.curve);
  if (p.samples) showSamples(ui.samples, p.samples);
  if (p.log) ui.log.textContent += p.log;
}

// Slices until the run ends or a button says otherwise; then the final losses.
async function trainInSlices(ui, losses) {
  while (ui.box.dataset.state === "running") {
    const p = await py().call("playground.train_slice", [SLICE_SECONDS]);
    if (p.error) { ui.error.textContent = p.error; break; }
    if (ui.box.dataset.state !== "stopping") showProgress(ui, p, losses);
    else ui.shown.step.textContent = `${p.step} / ${p.steps}`;
    if (p.done) break;
  }
  if (ui.box.dataset.state === "paused") return;
  setState(ui, "stopped");
  const result = await py().call("playground.train_stop");
  if (result.error) { ui.error.textContent = result.error; return; }
  ui.shown.loss.textContent = result.train_loss.toFixed(4);
  ui.shown.val.textContent = result.val_loss.toFixed(4);
  ui.log.textContent += `${result.summary}\n`;
  showSvg(ui.curve, result.curve);
  showSamples(ui.samples, result.samples);
  setState(ui, "finished");
}

async function startTraining(ui, losses) {
  ui.error.textContent = "";
  ui.log.textContent = "";
  losses.length = 0;
  setState(ui, "running");
  const begun = await py().call("playground.train_start",
                                [ui.preset.value, ui.data.value, ui.pasted.value]);
  if (begun.error) {
    ui.error.textContent = begun.error;
    setState(ui, "idle");
    return;
  }
  ui.log.textContent = begun.log;
  ui.shown.step.textContent = `0 / ${begun.steps}`;
  trainInSlices(ui, losses);
}

async function loadCheckpoint(ui) {
  const file = ui.upload.files[0];
  if (!file) return;
  const answer = await py().call("playground.checkpoint_load", [await file.text(), file.name]);
  ui.upload.value = "";
  ui.error.textContent = answer.error || "";
  if (answer.error) return;
  ui.log.textContent = `loaded ${file.name}: ${answer.summary}\n`;
  if (answer.curve) showSvg(ui.curve, answer.curve);
  showSamples(ui.samples, answer.samples);
  ui.box.dataset.loaded = file.name;
}

function trainer() {
  const ui = trainerLayout();
  const losses = [];
  setState(ui, "idle");
  ui.start.addEventListener("click", () => startTraining(ui, losses));
  ui.pause.addEventListener("click", () => {
    if (ui.box.dataset.state === "paused") {
      setState(ui, "running");
      trainInSlices(ui, losses);
    } else {
      setState(ui, "paused");
    }
  });
  ui.stop.addEventListener("click", () => {
    const was = ui.box.dataset.state;
    setState(ui, "stopping");
    if (was === "paused") trainInSlices(ui, losses);   // nothing in flight: finish now
  });
  ui.data.addEventListener("change", () => { ui.pasted.hidden = ui.data.value !== "pasted"; });
  ui.save.addEventListener("click", async () => {
    const answer = await py().call("playground.checkpoint_text");
    if (answer.error) ui.error.textContent = answer.error;
    else download(answer.name, answer.text);
  });
  ui.upload.addEventListener("change", () => loadCheckpoint(ui));
  return ui;
}

// ---------------------------------------------------------------------------------------
// Looking inside, and one step as a picture
// ---------------------------------------------------------------------------------------
function slider(testid, min, max, step, value) {
  return element("input", { type: "range", min, max, step, value, "data-testid": testid });
}

function inspector() {
  const box = section("Look inside what you trained", "inspect");
  const text = element("input", { "data-testid": "inspect-input", value: "emma", spellcheck: "false" });
  const go = button("Read it", "inspect-run", true);
  const error = element("div", { class: "mg-error", "data-testid": "inspect-error", role: "alert" });
  const view = element("div", { "data-testid": "inspect-view" });
  const temperature = slider("sample-temperature", "0.1", "2", "0.05", "1");
  const topK = slider("sample-top-k", "0", "27", "1", "0");
  const topP = slider("sample-top-p", "0.05", "1", "0.05", "1");
  const knobs = element("div", { class: "mg-facts", "data-testid": "sample-knobs" });
  const chart = element("div", { class: "mg-bars", "data-testid": "next-token" });
  const samples = element("ol", { class: "mg-samples", "data-testid": "sample-output" });
  const controls = element("div", { class: "mg-controls" });
  controls.append(field("text the model reads", text), go);
  const sliders = element("div", { class: "mg-controls" });
  sliders.append(field("temperature", temperature), field("top-k (0: all)", topK),
                 field("top-p", topP), knobs);
  box.append(element("p", {}, "The next-token table and every head's attention, as " +
                     "micrograd-gpt inspect shows them; then the next token's distribution " +
                     "under the sampling knobs, and samples that start with your text."),
             controls, error, view, element("h3", {}, "the next token, and samples"), sliders,
             chart, samples);

  const redraw = async () => {
    knobs.textContent = `T = ${temperature.value}, top-k = ${topK.value === "0" ? "all" : topK.value}, top-p = ${topP.value}`;
    const answer = await py().call("playground.next_token",
                                   [text.value, temperature.value, topK.value, topP.value]);
    if (answer.error) { error.textContent = answer.error; return; }
    topK.max = String(answer.tokens.length);   // the model's vocabulary
    const rows = answer.tokens.map((t, i) => [t, answer.probabilities[i]])
      .filter(([, p]) => p > 0).sort((a, b) => b[1] - a[1]).slice(0, 12);
    chart.replaceChildren(...rows.map(([token, p]) => {
      const row = element("div", { class: "mg-bar" });
      const bar = element("span", { class: "mg-bar-fill" });
      bar.style.width = `${(100 * p).toFixed(1)}%`;
      row.append(element("code", {}, token), bar, element("small", {}, p.toFixed(3)));
      return row;
    }));
    samples.replaceChildren(...answer.samples.map((s) => element("li", {}, s)));
  };
  const read = async () => {
    const answer = await py().call("playground.inspect", [text.value]);
    error.textContent = answer.error || "";
    box.dataset.heads = answer.error ? "" : String(answer.heads);
    if (answer.error) return;
    view.replaceChildren(htmlFrame(answer.page, "inspect-page"));
    await redraw();
  };
  go.addEventListener("click", read);
  text.addEventListener("keydown", (e) => { if (e.key === "Enter") read(); });
  for (const knob of [temperature, topK, topP]) knob.addEventListener("input", redraw);
  return { box, read };
}

function stepPicture() {
  const box = section("One training step as a picture", "step");
  const go = button("Draw one step of the model", "step-graph-run", true);
  const error = element("div", { class: "mg-error", "data-testid": "step-graph-error", role: "alert" });
  const picture = element("div", { class: "mg-picture", "data-testid": "step-graph" });
  box.append(element("p", {}, "Every Value of one training step on one document, one box " +
                     "per module (as micrograd-gpt graph --gpt draws it): for the small " +
                     "models (bigram, microgpt, tiny)."), go, error, picture);
  go.addEventListener("click", async () => {
    go.disabled = true;
    const answer = await py().call("playground.step_graph");
    go.disabled = false;
    error.textContent = answer.error || "";
    if (!answer.error) showSvg(picture, answer.svg);
  });
  return { box };
}

export async function setUpPlayground(pythonOf) {
  const root = document.getElementById("playground-app");
  if (!root) return;
  py = pythonOf;
  const explorer = expressionExplorer();
  const look = inspector();
  const training = trainer();
  root.append(explorer.box, training.box, look.box, stepPicture().box);
  await py().ready;
  const presets = await py().call("playground.presets");
  for (const [name, kind] of presets) {
    training.preset.append(element("option", { value: name }, `${kind}: ${name}`));
  }
  root.dataset.ready = "true";
  explorer.run();
}
