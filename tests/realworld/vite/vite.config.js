// The app tests/realworld.rs builds: React with a lazy route, CSS (global and the lazy
// route's own), images imported from JS and named from CSS. `ASSETC_SOURCEMAP=1` adds
// source maps; the base comes from `vite build --base`.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  build: {
    sourcemap: process.env.ASSETC_SOURCEMAP === "1",
    // Every image a file of its own, never a data: URL, so that names are at stake.
    assetsInlineLimit: 0,
  },
});
