/**
 * ChatKit icon names → a small built-in set of 24×24 stroke icons. The SVG markup is
 * built from constants here with createElementNS; the icon name from the widget is
 * only ever used as a lookup key. Names outside the set (including `lucide:` and
 * `vendor:` names) draw a neutral dot rather than nothing, so layouts keep their shape.
 */

const SVG_NS = "http://www.w3.org/2000/svg";

// Each entry is a list of path `d` strings; circles are written as arcs to keep one shape type.
const CIRCLE = "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z";
const PATHS: Record<string, string[]> = {
  check: ["M5 12.5l4.5 4.5L19 7.5"],
  "check-circle": [CIRCLE, "M8 12.5l3 3l5-6"],
  "check-circle-filled": [CIRCLE, "M8 12.5l3 3l5-6"],
  "empty-circle": [CIRCLE],
  "chevron-left": ["M15 5l-7 7l7 7"],
  "chevron-right": ["M9 5l7 7l-7 7"],
  plus: ["M12 5v14", "M5 12h14"],
  reload: ["M20 12a8 8 0 1 1-2.34-5.66", "M20 4v4.5h-4.5"],
  calendar: ["M4 6h16v14H4z", "M4 10h16", "M8 3v4", "M16 3v4"],
  clock: [CIRCLE, "M12 7v5l3 2"],
  "map-pin": ["M12 21s-6-5.5-6-11a6 6 0 0 1 12 0c0 5.5-6 11-6 11z", "M12 8a2 2 0 1 0 0 4a2 2 0 1 0 0-4z"],
  search: ["M10.5 4a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13z", "M15.5 15.5L20 20"],
  star: ["M12 3.5l2.6 5.3l5.9.9l-4.3 4.1l1 5.8L12 16.9l-5.2 2.7l1-5.8l-4.3-4.1l5.9-.9z"],
  "star-filled": ["M12 3.5l2.6 5.3l5.9.9l-4.3 4.1l1 5.8L12 16.9l-5.2 2.7l1-5.8l-4.3-4.1l5.9-.9z"],
  info: [CIRCLE, "M12 11v6", "M12 7.5v.5"],
  "circle-question": [CIRCLE, "M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.6v.6", "M12 17v.5"],
  mail: ["M3 6h18v12H3z", "M3 7l9 6l9-6"],
  phone: ["M6 3h4l1.5 5l-2.5 1.5a11 11 0 0 0 5.5 5.5L16 12.5l5 1.5v4a2 2 0 0 1-2 2A16 16 0 0 1 4 5a2 2 0 0 1 2-2z"],
  user: ["M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8z", "M4 20a8 8 0 0 1 16 0"],
  profile: ["M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8z", "M4 20a8 8 0 0 1 16 0"],
  "external-link": ["M14 4h6v6", "M20 4l-9 9", "M18 14v6H4V6h6"],
  globe: [CIRCLE, "M3 12h18", "M12 3c3 3.5 3 14.5 0 18c-3-3.5-3-14.5 0-18z"],
  "dots-horizontal": ["M5 12h.01", "M12 12h.01", "M19 12h.01"],
  "dots-vertical": ["M12 5v.01", "M12 12v.01", "M12 19v.01"],
  bolt: ["M13 3L5 14h6l-1 7l8-11h-6z"],
  sparkle: ["M12 3l2 7l7 2l-7 2l-2 7l-2-7l-7-2l7-2z"],
  document: ["M6 3h8l4 4v14H6z", "M14 3v4h4", "M9 12h6", "M9 16h6"],
  lightbulb: ["M9 18h6", "M10 21h4", "M12 3a6 6 0 0 0-3.5 10.9V16h7v-2.1A6 6 0 0 0 12 3z"],
  play: ["M8 5v14l11-7z"],
  write: ["M4 20h4l10-10l-4-4L4 16z", "M13.5 6.5l4 4"],
  "settings-slider": ["M4 7h10", "M18 7h2", "M4 17h4", "M12 17h8", "M16 5v4", "M10 15v4"],
  suitcase: ["M4 8h16v12H4z", "M9 8V5h6v3"],
};
PATHS["write-alt"] = PATHS.write;
PATHS["write-alt2"] = PATHS.write;
PATHS["notebook-pencil"] = PATHS.write;
PATHS["profile-card"] = PATHS.user;
PATHS["page-blank"] = PATHS.document;
PATHS.notebook = PATHS.document;
PATHS["square-text"] = PATHS.document;
PATHS.maps = PATHS["map-pin"];
PATHS["sparkle-double"] = PATHS.sparkle;

const FILLED = new Set(["check-circle-filled", "star-filled", "play"]);
const DOT = ["M12 10a2 2 0 1 0 0 4a2 2 0 1 0 0-4z"];

export function isKnownIcon(name: unknown): name is string {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(PATHS, name);
}

/** An inline, decorative (aria-hidden) SVG for a ChatKit icon name. Never throws. */
export function iconSvg(name: unknown): SVGSVGElement {
  const known = isKnownIcon(name);
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "1em");
  svg.setAttribute("height", "1em");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("fill", known && FILLED.has(name) ? "currentColor" : "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  const paths = known ? PATHS[name] : DOT;
  paths.forEach((d, i) => {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    // The filled circle icon keeps its check mark visible by stroking it in the background colour.
    if (name === "check-circle-filled" && i > 0) path.style.stroke = "var(--ck-surface, #fff)";
    if (!known) path.setAttribute("fill", "currentColor");
    svg.append(path);
  });
  return svg;
}
