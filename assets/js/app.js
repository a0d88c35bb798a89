// The demo site's script: shows that it ran, and when the page was loaded.
document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("status");
  if (status) {
    status.textContent = "app.js ran at " + new Date().toLocaleTimeString();
  }
});
