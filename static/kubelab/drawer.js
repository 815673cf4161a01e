// Side panels (object details, Apply YAML): one open at a time, Escape or the close button
// closes, and focus goes back to whatever opened it.

const open = new Set();

export class Drawer {
  constructor(element, { onClose } = {}) {
    this.el = element;
    this.onClose = onClose;
    this.opener = null;
    element.querySelector("[data-close]")?.addEventListener("click", () => this.close());
  }

  get isOpen() {
    return !this.el.hidden;
  }

  show(opener, focusTarget) {
    for (const other of open) if (other !== this) other.close({ restoreFocus: false });
    if (opener) this.opener = opener;
    this.el.hidden = false;
    open.add(this);
    document.body.classList.add("has-drawer");
    (focusTarget || this.el.querySelector("h2"))?.focus({ preventScroll: true });
  }

  close({ restoreFocus = true } = {}) {
    if (this.el.hidden) return;
    this.el.hidden = true;
    open.delete(this);
    if (!open.size) document.body.classList.remove("has-drawer");
    this.onClose?.();
    const opener = this.opener;
    this.opener = null;
    if (restoreFocus && opener?.isConnected) opener.focus({ preventScroll: true });
  }
}

document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || !open.size || e.defaultPrevented) return;
  const last = [...open].pop();
  last.close();
  e.preventDefault();
});
