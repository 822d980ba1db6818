/* AICMO pages: small progressive enhancements. Everything works without this file; with a strict CSP it is
   the only script besides htmx (no inline scripts, no eval, no inline event handlers). */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("js"); // the narrow-screen menu collapses only when this script can open it

  // A form's error page answers at the form's action URL (…/reject): put the address bar back on the page it
  // shows, so a reload or a shared link opens that page (the action URL itself only redirects there).
  var pageUrl = document.body && document.body.getAttribute("data-page-url");
  if (pageUrl && window.history && window.history.replaceState && pageUrl.charAt(0) === "/") {
    window.history.replaceState(null, "", pageUrl + window.location.hash);
  }

  // Narrow screens: the navigation folds behind a menu button.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-menu-button]") : null;
    if (!button) {
      return;
    }
    var nav = document.getElementById(button.getAttribute("aria-controls"));
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (nav) {
      nav.classList.toggle("open", open);
    }
  });

  function effectiveTheme() {
    var theme = root.getAttribute("data-theme");
    if (theme === "light" || theme === "dark") {
      return theme;
    }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  // Theme toggle: switch at once, then remember it for the user (server-side, so every device agrees and
  // the next page is rendered in the right theme without a flash). Without JS the form posts normally.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest ? event.target.closest("[data-theme-form]") : null;
    if (!form) {
      return;
    }
    event.preventDefault();
    var next = effectiveTheme() === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    var body = new FormData(form);
    body.set("theme", next);
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).catch(function () { /* the theme still applies to this page */ });
  });

  // Popovers of the content calendar: close on Escape is native; move focus into the opened entry.
  document.addEventListener("toggle", function (event) {
    var target = event.target;
    if (target && target.classList && target.classList.contains("cal-popover") && event.newState === "open") {
      var close = target.querySelector("button");
      if (close) {
        close.focus();
      }
    }
  }, true);

  // Copy buttons (a post, an ad's fields): shown only where the clipboard can be written, so a page without
  // this script shows no button that does nothing.
  function showCopyButtons(scope) {
    if (!navigator.clipboard || !window.isSecureContext) {
      return;
    }
    scope.querySelectorAll("[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }
  showCopyButtons(document);
  document.addEventListener("htmx:afterSwap", function (event) {
    showCopyButtons(event.target);
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) {
      return;
    }
    var label = button.querySelector("[data-copy-label]");
    var before = label ? label.textContent : "";
    navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
      if (label) {
        label.textContent = "Copied";
        window.setTimeout(function () { label.textContent = before; }, 1500);
      }
    }, function () {
      if (label) {
        label.textContent = "Copy failed";
      }
    });
  });

  // The improve loop: text selected in the Amend editor, or in the rendered content, becomes the passage to
  // rewrite (the field stays editable; without JS a passage can be pasted into it).
  function offerSelection(text) {
    var target = document.querySelector("[data-rewrite-selection]");
    if (target && text && text.trim()) {
      target.value = text;
    }
  }
  document.addEventListener("select", function (event) {
    var source = event.target;
    if (source && source.name === "content_markdown" && typeof source.selectionStart === "number") {
      offerSelection(source.value.substring(source.selectionStart, source.selectionEnd));
    }
  }, true);
  document.addEventListener("mouseup", function (event) {
    var area = event.target.closest ? event.target.closest("[data-rendered-content], .post-text") : null;
    if (area && window.getSelection) {
      offerSelection(window.getSelection().toString());
    }
  });
})();
