// indexer's gallery: conveniences only; every page reads the same without this script.
"use strict";

// A photo's face labels never overlap: each is moved down below the ones placed before it that it would
// cover (they sit under their boxes; boxes of faces side by side can put them on top of one another).
function placeLabels() {
  const figure = document.querySelector("figure.photo");
  if (!figure) return;
  const place = () => {
    const placed = [];
    for (const label of figure.querySelectorAll(".box .label")) {
      label.style.transform = "";
      let shift = 0;
      for (let tries = 0; tries < 50; tries++) {
        const mine = label.getBoundingClientRect();
        const top = mine.top + shift, bottom = mine.bottom + shift;
        const covered = placed.find((other) => mine.left < other.right && other.left < mine.right && top < other.bottom && other.top < bottom);
        if (!covered) break;
        shift += covered.bottom - top + 1;
      }
      label.style.transform = shift ? `translateY(${shift}px)` : "";
      const rect = label.getBoundingClientRect();
      placed.push({ left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom });
    }
  };
  const image = figure.querySelector("img");
  if (image.complete) place(); else image.addEventListener("load", place);
  addEventListener("resize", place);
  figure.place = place;
}

document.addEventListener("DOMContentLoaded", () => {
  placeLabels();
  for (const command of document.querySelectorAll(".command code")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(command.textContent);
        button.textContent = "Copied";
      } catch {
        // No clipboard (an old browser, or a page opened from disk where it is not allowed): select the text.
        const range = document.createRange();
        range.selectNodeContents(command);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
    command.after(button);
  }
});
