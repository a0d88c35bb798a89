// A module imported by app.js (so preloaded by {% asset_tags %}).
export const greeting = (who) => `Hello from ${who}, with fingerprinted assets.`;
