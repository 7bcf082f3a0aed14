// indexer's gallery: conveniences only; every page reads the same without this script.
document.addEventListener("DOMContentLoaded", () => {
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
