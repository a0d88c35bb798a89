// The dashboard's script: formats the metrics with the helper module it imports.
import { formatStatus } from './format.js';

document.getElementById('status').textContent = formatStatus(document.querySelectorAll('#metrics tr').length);
document.documentElement.dataset.assetsReady = 'yes';
