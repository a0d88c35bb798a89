// The site the browser test builds: two pages sharing CSS, JS, a web font and an image,
// written into a temp dir (never `assets/`). Text files are padded past the build's
// compression threshold so that each has precompressed variants.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** The font family the pages use; the test checks that this face loaded and applies. */
export const FONT_FAMILY = 'Open Sans Test';

/** The heading colour in `css/theme.css`, before and after the rebuild of step 4. */
export const THEME_COLOURS = ['rgb(20, 60, 120)', 'rgb(170, 30, 40)'];

/** The logo's size in pixels. */
export const LOGO_SIZE = 48;

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
/** The demo site's web font (SIL OFL), copied into the temp site at test time. */
const FONT = path.join(REPO, 'assets', 'fonts', 'open-sans.woff2');

// Prose that compresses well and takes room: the precompressed variants are only written
// for files above a size threshold.
const FILLER = Array.from(
  { length: 24 },
  (_, i) => `Paragraph ${i}: fingerprinted files are cached for a year, pages revalidate.`,
);

function page(title, other, otherTitle) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="css/site.css">
<link rel="stylesheet" href="css/theme.css">
<script src="js/app.js" defer></script>
</head>
<body>
<h1 id="title">${title}</h1>
<img id="logo" src="img/logo.png" alt="logo" width="${LOGO_SIZE}" height="${LOGO_SIZE}">
<p><a id="next" href="${other}">${otherTitle}</a></p>
${FILLER.map((p) => `<p>${p}</p>`).join('\n')}
</body>
</html>
`;
}

function siteCss() {
  return `@font-face {
  font-family: "${FONT_FAMILY}";
  src: url(../fonts/open-sans.woff2) format("woff2");
  font-display: block;
}
body { font-family: "${FONT_FAMILY}", monospace; margin: 2rem; }
${FILLER.map((_, i) => `.rule-${i} { margin-top: ${i}px; padding: ${i}px; }`).join('\n')}
`;
}

function themeCss(colour) {
  return `h1 { color: ${colour}; }
${FILLER.map((_, i) => `.theme-${i} { border: ${i}px solid ${colour}; }`).join('\n')}
`;
}

function appJs() {
  return `// Marks the page as scripted, so the test sees that the script ran.
const lines = ${JSON.stringify(FILLER, null, 2)};
document.documentElement.dataset.app = String(lines.length);
`;
}

/** A real PNG: `size`×`size` RGB, a diagonal gradient. */
export function png(size) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x++) {
      row[1 + x * 3] = (x * 255) / size;
      row[2 + x * 3] = (y * 255) / size;
      row[3 + x * 3] = 160;
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function write(root, rel, contents) {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, contents);
}

/** Writes the whole site into `dir`. */
export function writeSite(dir) {
  write(dir, 'index.html', page('Home', 'about.html', 'About'));
  write(dir, 'about.html', page('About', 'index.html', 'Home'));
  write(dir, 'css/site.css', siteCss());
  write(dir, 'css/theme.css', themeCss(THEME_COLOURS[0]));
  write(dir, 'js/app.js', appJs());
  write(dir, 'img/logo.png', png(LOGO_SIZE));
  fs.mkdirSync(path.join(dir, 'fonts'), { recursive: true });
  fs.copyFileSync(FONT, path.join(dir, 'fonts', 'open-sans.woff2'));
}

/** The one change of step 4: a new heading colour in `css/theme.css`. */
export function changeTheme(dir) {
  write(dir, 'css/theme.css', themeCss(THEME_COLOURS[1]));
}
