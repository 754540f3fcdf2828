// The page's Python: Pyodide (CPython in WebAssembly) in a module Web Worker, so the page
// never freezes while Python runs. It installs micrograd_gpt from the wheel built from the
// checkout, gives the library Graphviz compiled to WebAssembly to draw with, and then runs
// what the page asks, one request at a time, in one interpreter (like a notebook).
//
// Messages in:  {id, op, args}  -> a function of page_runtime.py (or playground.py) by name.
// Messages out: {type: "status", text}  while starting;  {type: "ready"}  once it can run;
//               {id, type: "stdout", text}  what the request prints, as it prints it;
//               {id, type: "result", value}  the function's answer (a JSON text, parsed);
//               {id, type: "failed", text}  a failure of the page itself (not of the
//               learner's code, whose errors are part of the answer).
import { loadPyodide } from "../pyodide/pyodide.mjs";
import { instance as graphvizInstance } from "../vendor/@viz-js/viz/viz.js";

const here = (path) => new URL(path, import.meta.url).href;
let current = null;   // the id of the request running now: where printed text goes
const decoder = new TextDecoder();

function printed(bytes) {
  const text = decoder.decode(bytes, { stream: true });
  if (text) postMessage({ id: current, type: "stdout", text });
  return bytes.length;
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return response.arrayBuffer();
}

// The wheels and the page's Python files, fetched while Pyodide starts.
async function fetchPackages() {
  const wheels = JSON.parse(decoder.decode(await fetchBytes(here("../wheels/wheels.json"))));
  const [archives, sources] = await Promise.all([
    Promise.all(wheels.map((name) => fetchBytes(here(`../wheels/${name}`)))),
    Promise.all(["page_runtime.py", "playground.py"].map(
      async (name) => [name, decoder.decode(await fetchBytes(here(name)))])),
  ]);
  return { archives, sources };
}

async function start() {
  postMessage({ type: "status", text: "starting Python (Pyodide)…" });
  const [pyodide, graphviz, packages] = await Promise.all([
    loadPyodide({ indexURL: here("../pyodide/") }),
    graphvizInstance(),
    fetchPackages(),
  ]);
  pyodide.setStdout({ write: printed });
  pyodide.setStderr({ write: printed });
  // the library draws through this: DOT text in, SVG text out (viz.renderString is synchronous)
  globalThis.renderDot = (source) => graphviz.renderString(source, { format: "svg", engine: "dot" });
  postMessage({ type: "status", text: "installing micrograd_gpt…" });
  for (const archive of packages.archives) pyodide.unpackArchive(archive, "wheel");
  pyodide.FS.mkdirTree("/home/pyodide/page");
  for (const [name, code] of packages.sources) {
    pyodide.FS.writeFile(`/home/pyodide/page/${name}`, code);
  }
  pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide/page')\n" +
                    "import page_runtime, playground\npage_runtime.start()");
  return pyodide;
}

const ready = start();
ready.then(() => postMessage({ type: "ready" }),
           (error) => postMessage({ type: "failed", text: `Python could not start: ${error}` }));

let queue = Promise.resolve();
self.onmessage = (event) => {
  const { id, op, args } = event.data;
  // one request at a time, in the order they came: cells run like a notebook's
  queue = queue.then(async () => {
    const pyodide = await ready;
    current = id;
    try {
      const [module, name] = op.includes(".") ? op.split(".") : ["page_runtime", op];
      const func = pyodide.pyimport(module)[name];
      const answer = func(...(args || []));
      postMessage({ id, type: "result", value: JSON.parse(answer) });
    } catch (error) {
      postMessage({ id, type: "failed", text: String(error.message || error) });
    } finally {
      current = null;
    }
  }).catch(() => {});
};
