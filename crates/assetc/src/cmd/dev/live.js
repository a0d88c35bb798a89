// assetc dev's live reload, injected into every page: reload after a rebuild, swap a
// stylesheet in place when only CSS changed, show a build error as an overlay.
(() => {
  "use strict";
  let overlay = null;
  const show = (message) => {
    if (!overlay) {
      overlay = document.createElement("pre");
      overlay.id = "assetc-error-overlay";
      overlay.style.cssText = "position:fixed;inset:0;margin:0;padding:2rem;z-index:2147483647;" +
        "background:rgba(20,0,0,.92);color:#fdd;font:14px/1.5 monospace;white-space:pre-wrap;overflow:auto";
      document.documentElement.appendChild(overlay);
    }
    overlay.textContent = "assetc: the last build failed; still serving the last good one\n\n" + message;
  };
  const swapStyles = (urls) => {
    let swapped = 0;
    for (const link of document.querySelectorAll('link[rel~="stylesheet"]')) {
      const url = new URL(link.href, location.href);
      const next = urls[url.pathname];
      if (next) {
        // Keep the reference's own form: only the file name changes.
        const raw = link.getAttribute("href");
        const oldName = url.pathname.split("/").pop();
        const newName = next.split("/").pop();
        url.pathname = next;
        link.setAttribute("href", raw.includes(oldName) ? raw.replace(oldName, newName) : url.href);
        swapped += 1;
      }
    }
    return swapped;
  };
  const events = new EventSource(document.currentScript.dataset.events);
  events.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "reload") {
      location.reload();
    } else if (message.type === "css") {
      if (overlay) { location.reload(); return; }
      if (swapStyles(message.urls) === 0) location.reload();
    } else if (message.type === "error") {
      show(message.message);
    }
  };
})();
