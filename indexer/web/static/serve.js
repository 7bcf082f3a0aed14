// indexer serve: quicker naming. Every page reads and every form works without this script.
"use strict";

// Name fields suggest the people already named as you type.
function suggestNames() {
  const list = document.getElementById("people-names");
  if (!list) return;
  let asked = "";
  for (const field of document.querySelectorAll('input[list="people-names"]')) {
    field.addEventListener("input", async () => {
      const typed = field.value;
      if (typed === asked) return;
      asked = typed;
      const answer = await fetch("/names?q=" + encodeURIComponent(typed), { credentials: "same-origin" });
      if (!answer.ok || typed !== asked) return;
      list.replaceChildren(...(await answer.json()).map((name) => {
        const option = document.createElement("option");
        option.value = name;
        return option;
      }));
    });
  }
}

// The review page: y says yes, n says no, s skips (as `indexer review` asks).
function reviewKeys() {
  const suggestion = document.getElementById("suggestion");
  if (!suggestion) return;
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest("input, textarea, select")) return;
    const target = { y: "yes", n: "no", s: "skip" }[event.key.toLowerCase()];
    if (!target) return;
    event.preventDefault();
    document.getElementById(target).click();
  });
}

// The photo page: drag a box over a face the detector missed; the form gets it in the photo's pixels.
function drawFaces() {
  const figure = document.querySelector("figure.photo[data-width]");
  const form = document.getElementById("draw-face");
  if (!figure || !form) return;
  const width = Number(figure.dataset.width), height = Number(figure.dataset.height);
  let start = null, box = null;
  const place = (event) => {
    const area = figure.getBoundingClientRect();
    return [Math.min(Math.max(event.clientX - area.left, 0), area.width) / area.width,
            Math.min(Math.max(event.clientY - area.top, 0), area.height) / area.height];
  };
  figure.addEventListener("pointerdown", (event) => {
    if (event.target.closest("a")) return;
    event.preventDefault();
    start = place(event);
    box?.remove();
    box = document.createElement("span");
    box.className = "box drawing";
    figure.append(box);
    figure.setPointerCapture(event.pointerId);
  });
  figure.addEventListener("pointermove", (event) => {
    if (!start) return;
    const [x, y] = place(event);
    const left = Math.min(x, start[0]), top = Math.min(y, start[1]);
    Object.assign(box.style, { left: `${100 * left}%`, top: `${100 * top}%`,
      width: `${100 * Math.abs(x - start[0])}%`, height: `${100 * Math.abs(y - start[1])}%` });
    const values = { x: left * width, y: top * height, w: Math.abs(x - start[0]) * width, h: Math.abs(y - start[1]) * height };
    for (const [name, value] of Object.entries(values)) form.elements[name].value = Math.round(value);
  });
  figure.addEventListener("pointerup", () => {
    start = null;
    form.elements.name?.focus();
  });
}

// A photo opened from a list: ← and → go to the photo before and after it there; a click on the photo (not
// a drag, not a box) shows it larger, and again back.
function photoKeys() {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest("input, textarea, select")) return;
    const target = { ArrowLeft: "previous", ArrowRight: "next" }[event.key];
    const link = target && document.getElementById(target);
    if (!link) return;
    event.preventDefault();
    link.click();
  });
  const figure = document.querySelector("figure.photo");
  if (!figure) return;
  let down = null;
  figure.addEventListener("pointerdown", (event) => { down = [event.clientX, event.clientY]; });
  figure.addEventListener("click", (event) => {
    if (event.target.closest("a, .box") || !down) return;
    if (Math.abs(event.clientX - down[0]) + Math.abs(event.clientY - down[1]) > 4) return;  // a box was drawn
    figure.classList.toggle("zoomed");
    figure.place?.();
  });
}

// The list of people: the tiles of the names holding what is typed, as it is typed.
function filterPeople() {
  const field = document.getElementById("people-filter");
  const tiles = document.getElementById("people-tiles");
  if (!field || !tiles) return;
  const folded = (text) => text.normalize("NFC").toLocaleLowerCase();
  field.addEventListener("input", () => {
    const typed = folded(field.value.trim());
    for (const tile of tiles.children) tile.hidden = typed !== "" && !folded(tile.querySelector(".name")?.textContent ?? "").includes(typed);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  suggestNames();
  reviewKeys();
  drawFaces();
  photoKeys();
  filterPeople();
});
