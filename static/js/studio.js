/* The creative studio (/studio/): send a message, stream the reply over Server-Sent Events, show what the
   assistant's tools did (assets saved, images made, theme switched) and keep the asset list current.
   Strict-CSP friendly: no inline scripts or styles, no eval; text is inserted as text, and the only HTML
   inserted is what the server rendered and sanitised (the final reply, the asset list). Without this file the
   page still works: forms post normally and a reload shows the saved reply. */
(function () {
  "use strict";

  var chat = document.querySelector("[data-studio-chat]");
  if (!chat) {
    return;
  }
  var list = chat.querySelector("[data-messages]");
  var composer = chat.querySelector("[data-composer]");
  var textarea = composer.querySelector("textarea");
  var sendButton = composer.querySelector("[data-send]");
  var statusLine = chat.querySelector("[data-status]");
  var assetsPanel = document.querySelector("[data-assets]");
  var csrf = composer.querySelector("input[name=csrfmiddlewaretoken]").value;
  var busy = false;

  function setStatus(text) {
    statusLine.textContent = text || "";
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    composer.classList.toggle("is-busy", value);
  }

  function scrollDown() {
    list.scrollTop = list.scrollHeight;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          throw new Error(data.detail || ("The server answered " + response.status + "."));
        }
        return data;
      });
    });
  }

  // --- messages -------------------------------------------------------------------------------------------

  function addMessage(role, id) {
    var hint = list.querySelector("[data-hint]");
    if (hint) {
      hint.remove();
    }
    var item = element("li", "studio-message studio-message-" + role);
    item.dataset.messageId = id;
    var label = element("span", "sr-only", role === "user" ? "You said:" : "Assistant:");
    var bubble = element("div", "studio-bubble");
    var text = element("div", "studio-text");
    text.dataset.text = "";
    var actions = element("ul", "studio-actions");
    actions.dataset.actions = "";
    bubble.appendChild(text);
    bubble.appendChild(actions);
    item.appendChild(label);
    item.appendChild(bubble);
    list.appendChild(item);
    return item;
  }

  function applyTheme(theme) {
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);  // the choice is already saved server-side
    }
  }

  function actionNode(action) {
    var item = element("li", "studio-action studio-action-" + action.type);
    if (action.type === "asset") {
      var label = action.created ? "Saved to your assets: " : "Saved version " + action.version + " of ";
      var span = element("span", "", label);
      var link = element("a", "", action.headline);
      link.href = action.url;
      span.appendChild(link);
      item.appendChild(span);
    } else if (action.type === "image") {
      var anchor = element("a");
      anchor.href = action.url;
      var image = element("img");
      image.src = action.url;
      image.alt = (action.prompt || "Generated image").slice(0, 140);
      anchor.appendChild(image);
      item.appendChild(anchor);
      var shape = action.shape.charAt(0).toUpperCase() + action.shape.slice(1);
      item.appendChild(element("span", "small muted", shape + " · " + action.size));
    } else if (action.type === "theme") {
      item.appendChild(element("span", "", "Switched the dashboard to " + action.theme + " mode."));
    }
    return item;
  }

  function showActions(item, actions) {
    var holder = item.querySelector("[data-actions]");
    holder.textContent = "";
    actions.forEach(function (action) {
      holder.appendChild(actionNode(action));
    });
  }

  function refreshAssets() {
    if (!assetsPanel) {
      return;
    }
    fetch(chat.dataset.assetsUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) {
          assetsPanel.innerHTML = html;  // rendered by the server's templates (escaped)
        }
      })
      .catch(function () { /* the list refreshes on the next reload */ });
  }

  function showError(item, data) {
    var holder = item.querySelector("[data-error]");
    if (holder) {
      holder.remove();
    }
    holder = element("div", "studio-error");
    holder.dataset.error = "";
    holder.setAttribute("role", "alert");
    holder.appendChild(element("p", "", (data.error && data.error.message) || "The reply failed."));
    var form = element("form");
    form.method = "post";
    form.action = data.retry_url;
    form.dataset.retry = "";
    var button = element("button", "button button-small", "Retry");
    button.type = "submit";
    form.appendChild(button);
    holder.appendChild(form);
    item.querySelector(".studio-bubble").appendChild(holder);
  }

  // --- streaming ------------------------------------------------------------------------------------------

  function stream(item, url) {
    var text = item.querySelector("[data-text]");
    var raw = "";
    var toolActions = [];
    setBusy(true);
    item.dataset.status = "streaming";
    item.classList.add("is-streaming");
    item.classList.remove("is-failed");
    text.textContent = "";
    text.appendChild(element("p", "studio-typing", "Thinking…"));
    var source = new EventSource(url);  // reconnects by itself, sending Last-Event-ID: the server resumes there

    function show() {
      text.textContent = raw;  // plain text while it streams; the sanitised Markdown arrives with "done"
      scrollDown();
    }

    function end(data) {
      source.close();
      item.classList.remove("is-streaming");
      item.dataset.status = data.status;
      item.removeAttribute("data-stream-url");
      text.innerHTML = data.html;  // rendered from Markdown and sanitised (nh3) on the server
      showActions(item, data.actions || []);
      setBusy(false);
      setStatus("");
      scrollDown();
      if ((data.actions || []).some(function (action) { return action.type !== "theme"; })) {
        refreshAssets();
      }
    }

    source.addEventListener("open", function () { setStatus(""); });
    source.addEventListener("token", function (event) {
      raw += JSON.parse(event.data).text;
      show();
    });
    source.addEventListener("reset", function (event) {
      raw = JSON.parse(event.data).content;
      show();
    });
    source.addEventListener("tool", function (event) {
      var action = JSON.parse(event.data);
      toolActions.push(action);
      showActions(item, toolActions);
      if (action.type === "theme") {
        applyTheme(action.theme);
      } else {
        refreshAssets();
      }
      scrollDown();
    });
    source.addEventListener("done", function (event) {
      end(JSON.parse(event.data));
    });
    source.addEventListener("failed", function (event) {
      var data = JSON.parse(event.data);
      end(data);
      item.classList.add("is-failed");
      showError(item, data);
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        setBusy(false);
        setStatus("The connection was lost. Reload the page to see the reply.");
      } else {
        setStatus("Reconnecting…");
      }
    });
  }

  // --- sending and retrying -----------------------------------------------------------------------------------

  function send() {
    var value = textarea.value.trim();
    if (!value || busy) {
      return;
    }
    setBusy(true);
    setStatus("");
    var body = new FormData(composer);
    post(composer.action, body).then(function (data) {
      var question = addMessage("user", data.question.id);
      question.querySelector("[data-text]").appendChild(element("p", "", data.question.content));
      var reply = addMessage("assistant", data.reply.id);
      textarea.value = "";
      stream(reply, data.reply.stream_url);
      scrollDown();
    }).catch(function (error) {
      setBusy(false);
      setStatus(error.message);
    });
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });

  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });

  list.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-retry]");
    if (!form) {
      return;
    }
    event.preventDefault();
    var item = form.closest(".studio-message");
    post(form.action, new FormData()).then(function (data) {
      form.closest("[data-error]").remove();
      stream(item, data.reply.stream_url);
    }).catch(function (error) {
      setStatus(error.message);
    });
  });

  // Replies still being written when the page loaded: follow them.
  Array.prototype.forEach.call(list.querySelectorAll("[data-stream-url]"), function (item) {
    stream(item, item.dataset.streamUrl);
  });
  scrollDown();
})();
