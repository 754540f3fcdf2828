// The page's handle on its Python worker (worker.mjs): send a request, get its printed
// text as it comes and its answer at the end. One worker per page. A request that must be
// abandoned (a Stop button, an endless loop in an exercise) ends the worker: Python in a
// worker cannot be interrupted from outside, but a worker can be thrown away and a fresh
// one started, which is what `restart` does.

export class Python {
  constructor(onStatus) {
    this.onStatus = onStatus || (() => {});
    this.pending = new Map();   // id -> {resolve, reject, onText}
    this.nextId = 1;
    this.generation = 0;        // how many workers this page has started
    this.spawn();
  }

  spawn() {
    this.generation += 1;
    this.startedAt = performance.now();
    const worker = new Worker(new URL("worker.mjs", import.meta.url), { type: "module" });
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    // a worker thrown away may still say something as it dies: only the current one counts
    worker.onmessage = (event) => { if (worker === this.worker) this.receive(event.data); };
    worker.onerror = (event) => {
      event.preventDefault();
      if (worker === this.worker) {
        this.readyReject(new Error(event.message || "the Python worker could not start"));
      }
    };
  }

  receive(message) {
    if (message.type === "status") return this.onStatus(message.text);
    if (message.type === "ready") {
      this.readyAfter = performance.now() - this.startedAt;
      this.onStatus("");
      return this.readyResolve();
    }
    const waiting = this.pending.get(message.id);
    if (message.id === undefined && message.type === "failed") {
      this.onStatus(message.text);
      return this.readyReject(new Error(message.text));
    }
    if (!waiting) return;
    if (message.type === "stdout") return waiting.onText(message.text);
    this.pending.delete(message.id);
    if (message.type === "result") waiting.resolve(message.value);
    else waiting.reject(new Error(message.text));
  }

  // Call a function of the worker's Python (page_runtime.NAME, or "playground.NAME").
  call(op, args = [], onText = () => {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onText });
      this.worker.postMessage({ id, op, args });
    });
  }

  // Throw the worker away (whatever it was doing) and start a fresh one; every request
  // still waiting is answered with `reason`.
  restart(reason) {
    this.worker.onmessage = this.worker.onerror = null;
    this.worker.terminate();
    for (const waiting of this.pending.values()) waiting.reject(new Error(reason));
    this.pending.clear();
    this.spawn();
    this.ready.catch(() => {});
  }

  get busy() {
    return this.pending.size > 0;
  }
}

let shared = null;

// The page's one interpreter, started on first use.
export function python(onStatus) {
  if (!shared) shared = new Python(onStatus);
  return shared;
}
