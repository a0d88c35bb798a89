// Formatting helpers for the dashboard, imported by dashboard.js (so preloaded by asset_tags).
import { plural } from './plural.js';

export function formatStatus(count) {
  return `${count} ${plural(count, 'metric', 'metrics')} live`;
}
