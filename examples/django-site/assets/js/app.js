// The Django example's script, with the module it imports.
import { greeting } from './greet.js';

document.getElementById('greeting').textContent = greeting('Django');
