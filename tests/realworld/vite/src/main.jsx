import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import App from "./App.jsx";
import "./index.css";

// Counts evaluations of this module: the browser check fails if the app boots twice.
window.__assetcBoots = (window.__assetcBoots || 0) + 1;

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
