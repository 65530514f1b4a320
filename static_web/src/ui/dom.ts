// A tiny element builder. Text always goes in as text nodes: nothing here parses HTML.

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value);
    else if (name === "className") element.className = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

export function icon(name: "plus" | "send" | "stop" | "paperclip" | "copy" | "up" | "down" | "retry" | "edit" | "trash" | "close" | "menu"): SVGSVGElement {
  const paths: Record<string, string> = {
    plus: "M12 5v14M5 12h14",
    send: "M5 12h13M13 6l6 6-6 6",
    stop: "M7 7h10v10H7z",
    paperclip: "M20 11.5l-8.5 8.5a5 5 0 01-7-7L13 4.5a3.5 3.5 0 015 5L9.5 18a2 2 0 01-3-3L14 7.5",
    copy: "M9 9h10v10H9zM5 15V5h10",
    up: "M7 11v9H4v-9zM7 11l4-8a2 2 0 012 2v4h5a2 2 0 012 2.3l-1.4 7A2 2 0 0116.6 20H7",
    down: "M7 13V4H4v9zM7 13l4 8a2 2 0 002-2v-4h5a2 2 0 002-2.3l-1.4-7A2 2 0 0016.6 4H7",
    retry: "M4 12a8 8 0 1 0 2.3-5.7M4 4v4h4",
    edit: "M4 20h4L19 9l-4-4L4 16zM14 6l4 4",
    trash: "M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13",
    close: "M6 6l12 12M18 6L6 18",
    menu: "M4 7h16M4 12h16M4 17h16",
  };
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", paths[name]);
  svg.append(path);
  return svg;
}
