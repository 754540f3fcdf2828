// Showing what Python gave back: printed text, errors, and pictures. Text always goes in as
// text (never as markup), so a learner's `<img onerror=...>` shows as the characters typed.
// SVG drawn by the library goes in as SVG, cleaned of anything that could run; HTML goes in
// a sandboxed frame of its own, where its scripts (the trace page's stepper) run apart
// from the page.

export function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

// An SVG text as a node, without scripts, event handlers, links to code or outside files.
export function safeSvg(text) {
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = parsed.documentElement;
  if (!svg || svg.nodeName.toLowerCase() !== "svg") return element("pre", {}, text);
  for (const bad of svg.querySelectorAll("script, foreignObject, iframe, object, embed")) {
    bad.remove();
  }
  for (const node of [svg, ...svg.querySelectorAll("*")]) {
    for (const attribute of [...node.attributes]) {
      const value = attribute.value.trim().toLowerCase();
      if (attribute.name.toLowerCase().startsWith("on") ||
          (attribute.name.toLowerCase().endsWith("href") && !value.startsWith("#"))) {
        node.removeAttribute(attribute.name);
      }
    }
  }
  return document.importNode(svg, true);
}

// A frame that grows to fit its page (the page posts its height; see FIT_SCRIPT).
// (The height of the content, not scrollHeight: that never drops below the frame's own.)
const FIT_SCRIPT = "<script>(function(){function fit(){var r=document.documentElement" +
  ".getBoundingClientRect();parent.postMessage({microgradHeight:Math.ceil(r.height)},'*');}" +
  "addEventListener('load',fit);new ResizeObserver(fit).observe(document.body);})();<\/script>";

export function htmlFrame(html, testid) {
  const frame = element("iframe", { sandbox: "allow-scripts", class: "mg-frame" });
  if (testid) frame.dataset.testid = testid;
  frame.srcdoc = html + FIT_SCRIPT;
  const fit = (event) => {
    if (event.source === frame.contentWindow && event.data && event.data.microgradHeight) {
      frame.style.height = `${Math.min(event.data.microgradHeight + 4, 2400)}px`;
    }
  };
  addEventListener("message", fit);
  return frame;
}

export function showDisplay(into, shown) {
  if (shown.kind === "svg") {
    const box = element("div", { class: "mg-picture" });
    box.append(safeSvg(shown.data));
    into.append(box);
  } else if (shown.kind === "html") {
    into.append(htmlFrame(shown.data));
  } else {
    into.append(element("pre", { class: "mg-value" }, shown.data));
  }
}

// Printed text, appended as it arrives.
export function textSink(into) {
  let pre = null;
  return (text) => {
    if (!pre) {
      pre = element("pre", { class: "mg-stdout" });
      into.append(pre);
    }
    pre.textContent += text;
  };
}

export function showError(into, text) {
  into.append(element("pre", { class: "mg-error", "data-testid": "error" }, text));
}

export function showAnswer(into, answer) {
  for (const shown of answer.displays || []) showDisplay(into, shown);
  if (answer.error) showError(into, answer.error);
}
