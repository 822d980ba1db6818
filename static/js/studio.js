/* The creative studio (/studio/): a ChatKit front end. It speaks the ChatKit protocol to POST /chatkit (the
   same protocol the ChatKit sample's own front end speaks): threads.create / threads.add_user_message stream
   ThreadStreamEvents (Server-Sent Events read from fetch), items.list loads a conversation, the client tool
   switch_theme is applied at once and answered with threads.add_client_tool_output, images are attached by
   ChatKit's two-phase upload (attachments.create, then the bytes to the upload URL it answers), and the custom action
   studio.resume replays a reply still being written after a reload (less the items the page already listed).
   Strict-CSP friendly: no inline scripts or styles, no eval, no innerHTML of model text: assistant Markdown is
   rendered into DOM nodes (paragraphs, lists, bold) with textContent. */
(function () {
  "use strict";

  var chat = document.querySelector("[data-studio-chat]");
  if (!chat) {
    return;
  }
  var endpoint = chat.dataset.chatkitUrl;
  var threadId = chat.dataset.threadId || null;
  var list = chat.querySelector("[data-messages]");
  var composer = chat.querySelector("[data-composer]");
  var textarea = composer.querySelector("textarea");
  var sendButton = composer.querySelector("[data-send]");
  var statusLine = chat.querySelector("[data-status]");
  var titleNode = chat.querySelector("[data-chat-title]");
  var assetsPanel = document.querySelector("[data-assets]");
  var threadList = document.querySelector("[data-thread-list]");
  var csrf = composer.querySelector("input[name=csrfmiddlewaretoken]").value;
  var drafts = {};  // assistant item id -> text streamed so far
  var loaded = [];  // ids of the items listed when the page opened (a resumed stream leaves them out)
  var fileInput = composer.querySelector("[data-attach]");
  var chips = chat.querySelector("[data-attachments]");
  var attached = [];  // uploaded attachments waiting to be sent with the next message
  var IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];
  var MAX_BYTES = 10 * 1024 * 1024;  // the server's limit too (it checks again, on the bytes)
  var MAX_IMAGES = 4;

  function setStatus(text) {
    statusLine.textContent = text || "";
  }

  function setBusy(value) {
    chat.dataset.busy = value ? "true" : "false";
    sendButton.disabled = value || textarea.disabled;
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
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  // --- the protocol ---------------------------------------------------------------------------------------

  function post(body) {
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "text/event-stream, application/json" },
      body: JSON.stringify(Object.assign({ metadata: { brand: chat.dataset.brand } }, body))
    }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          throw new Error(data.detail || ("The server answered " + response.status + "."));
        });
      }
      return response;
    });
  }

  function request(type, params) {
    return post({ type: type, params: params }).then(function (response) { return response.json(); });
  }

  // A streaming request: every `data:` line of the answer is one ThreadStreamEvent.
  function stream(type, params) {
    setBusy(true);
    setStatus("");
    return post({ type: type, params: params }).then(function (response) {
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            return;
          }
          buffer += decoder.decode(chunk.value, { stream: true });
          var parts = buffer.split("\n\n");
          buffer = parts.pop();
          parts.forEach(function (part) {
            part.split("\n").forEach(function (line) {
              if (line.indexOf("data: ") === 0) {
                handle(JSON.parse(line.slice(6)), true);
              }
            });
          });
          return pump();
        });
      }
      return pump();
    }).catch(function (error) {
      setStatus(error.message || "The connection was lost: reload the page to see the reply.");
    }).then(function () {
      setBusy(false);
      Array.prototype.forEach.call(list.querySelectorAll(".is-streaming"), function (node) {
        node.classList.remove("is-streaming");
      });
    });
  }

  function userInput(text, attachmentIds) {
    return {
      content: text ? [{ type: "input_text", text: text }] : [],
      attachments: attachmentIds || [],
      inference_options: {}
    };
  }

  // --- attachments: ChatKit's two-phase upload (attachments.create, then the bytes to its upload URL) -----------

  function samePath(url) {
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.pathname + parsed.search;  // same origin, whatever scheme the server saw behind a proxy
    } catch (error) {
      return url;
    }
  }

  function showAttached() {
    chips.textContent = "";
    attached.forEach(function (attachment) {
      var chip = element("li");
      chip.appendChild(element("span", "small", attachment.name));
      var remove = element("button", "button button-small", "Remove");
      remove.type = "button";
      remove.setAttribute("aria-label", "Remove " + attachment.name);
      remove.addEventListener("click", function () {
        attached = attached.filter(function (a) { return a.id !== attachment.id; });
        showAttached();
        request("attachments.delete", { attachment_id: attachment.id }).catch(function () {});
      });
      chip.appendChild(remove);
      chips.appendChild(chip);
    });
    textarea.required = !attached.length;
  }

  function attach(file) {
    if (IMAGE_TYPES.indexOf(file.type) < 0) {
      setStatus("“" + file.name + "” is not a PNG, JPEG or WebP image.");
      return Promise.resolve();
    }
    if (file.size > MAX_BYTES) {
      setStatus("“" + file.name + "” is too large: at most 10 MB.");
      return Promise.resolve();
    }
    if (attached.length >= MAX_IMAGES) {
      setStatus("At most " + MAX_IMAGES + " images per message.");
      return Promise.resolve();
    }
    setStatus("Uploading “" + file.name + "”…");
    return request("attachments.create", { name: file.name, size: file.size, mime_type: file.type })
      .then(function (attachment) {
        var form = new FormData();
        form.append("file", file);
        var upload = attachment.upload_descriptor;
        return fetch(samePath(upload.url), {
          method: upload.method, credentials: "same-origin", headers: { "X-CSRFToken": csrf }, body: form
        }).then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (data) {
            if (!response.ok) {
              throw new Error(data.detail || ("The upload failed (" + response.status + ")."));
            }
            return data;
          });
        });
      })
      .then(function (ready) {
        attached.push(ready);
        showAttached();
        setStatus("");
      })
      .catch(function (error) {
        setStatus(error.message);
      });
  }

  if (fileInput) {
    fileInput.addEventListener("change", function () {
      var files = Array.prototype.slice.call(fileInput.files || []);
      fileInput.value = "";
      files.reduce(function (chain, file) {
        return chain.then(function () { return attach(file); });
      }, Promise.resolve());
    });
  }

  // --- events ---------------------------------------------------------------------------------------------

  function handle(event, live) {
    switch (event.type) {
      case "thread.created":
        adoptThread(event.thread);
        break;
      case "thread.updated":
        showTitle(event.thread);
        break;
      case "thread.item.added":
        if (event.item.type === "assistant_message") {
          drafts[event.item.id] = "";
          var item = messageNode(event.item.id, "assistant");
          item.classList.add("is-streaming");
          item.dataset.status = "streaming";
          item.querySelector("[data-text]").appendChild(element("p", "studio-typing", "Thinking…"));
        }
        break;
      case "thread.item.updated":
        if (event.update.type === "assistant_message.content_part.text_delta") {
          drafts[event.item_id] = (drafts[event.item_id] || "") + event.update.delta;
          var node = messageNode(event.item_id, "assistant");
          node.querySelector("[data-text]").textContent = drafts[event.item_id];
          scrollDown();
        }
        break;
      case "thread.item.done":
      case "thread.item.replaced":
        renderItem(event.item, live);
        break;
      case "thread.item.removed":
        var gone = list.querySelector('[data-item-id="' + event.item_id + '"]');
        if (gone) {
          gone.remove();
        }
        break;
      case "error":
        showError(event.message || "The assistant could not answer. Try again.");
        break;
      case "notice":
        setStatus(event.message);
        break;
      default:
        break;  // stream_options, progress updates: nothing to show
    }
  }

  function adoptThread(thread) {
    threadId = thread.id;
    chat.dataset.threadId = thread.id;
    chat.dataset.assetsUrl = chat.dataset.threadUrl + thread.id + "/assets";
    window.history.replaceState(null, "", chat.dataset.threadUrl + thread.id + "/");
    var empty = document.querySelector("[data-no-threads]");
    if (empty) {
      empty.remove();
    }
    Array.prototype.forEach.call(threadList.querySelectorAll("a[aria-current]"), function (a) {
      a.removeAttribute("aria-current");
    });
    var entry = element("li");
    entry.dataset.threadId = thread.id;
    var link = element("a");
    link.href = chat.dataset.threadUrl + thread.id + "/";
    link.setAttribute("aria-current", "page");
    var title = element("span", "studio-thread-title", thread.title || "New conversation");
    title.dataset.threadTitle = "";
    link.appendChild(title);
    link.appendChild(element("span", "small muted", chat.dataset.brandName + " · now"));
    entry.appendChild(link);
    threadList.insertBefore(entry, threadList.firstChild);
  }

  function showTitle(thread) {
    if (!thread.title) {
      return;
    }
    titleNode.textContent = thread.title;
    var entry = threadList.querySelector('[data-thread-id="' + thread.id + '"] [data-thread-title]');
    if (entry) {
      entry.textContent = thread.title;
    }
  }

  // --- rendering items ------------------------------------------------------------------------------------

  function messageNode(id, role) {
    var existing = list.querySelector('[data-item-id="' + id + '"]');
    if (existing) {
      return existing;
    }
    var hint = list.querySelector("[data-hint]");
    if (hint) {
      hint.remove();
    }
    var item = element("li", "studio-message studio-message-" + role);
    item.dataset.itemId = id;
    item.appendChild(element("span", "sr-only", role === "user" ? "You said:" : "Assistant:"));
    var bubble = element("div", "studio-bubble");
    var text = element("div", "studio-text");
    text.dataset.text = "";
    bubble.appendChild(text);
    item.appendChild(bubble);
    list.appendChild(item);
    return item;
  }

  // A small, safe Markdown: paragraphs, "- " and "1. " lists, **bold**. Text only ever goes in as text.
  function inline(parent, text) {
    text.split(/(\*\*[^*]+\*\*)/).forEach(function (piece) {
      if (/^\*\*[^*]+\*\*$/.test(piece)) {
        parent.appendChild(element("strong", "", piece.slice(2, -2)));
      } else if (piece) {
        parent.appendChild(document.createTextNode(piece));
      }
    });
  }

  function markdown(holder, source) {
    holder.textContent = "";
    source.split(/\n{2,}/).forEach(function (block) {
      var lines = block.split("\n").filter(function (line) { return line.trim(); });
      if (!lines.length) {
        return;
      }
      var bullets = lines.every(function (line) { return /^\s*[-*] /.test(line); });
      var numbers = lines.every(function (line) { return /^\s*\d+\. /.test(line); });
      if (bullets || numbers) {
        var listNode = element(bullets ? "ul" : "ol");
        lines.forEach(function (line) {
          var entry = element("li");
          inline(entry, line.replace(/^\s*([-*]|\d+\.) /, ""));
          listNode.appendChild(entry);
        });
        holder.appendChild(listNode);
      } else {
        var paragraph = element("p");
        lines.forEach(function (line, index) {
          if (index) {
            paragraph.appendChild(element("br"));
          }
          inline(paragraph, line);
        });
        holder.appendChild(paragraph);
      }
    });
  }

  function providerOf(item) {
    var found = null;
    (item.content || []).forEach(function (part) {
      (part.annotations || []).forEach(function (annotation) {
        var source = annotation.source || {};
        if (source.type === "entity" && String(source.id).indexOf("provider:") === 0) {
          found = source;
        }
      });
    });
    return found;
  }

  function widgetNode(component) {
    var node;
    switch (component.type) {
      case "Title":
        return element("p", "studio-widget-title", component.value);
      case "Text":
      case "Markdown":
        return element("p", "studio-widget-text", component.value);
      case "Caption":
        return element("p", "small muted", component.value);
      case "Image":
        node = element("img", "studio-widget-image");
        node.src = component.src;
        node.alt = component.alt || "Generated image";
        return node;
      case "Button":
        var action = component.onClickAction || {};
        if (action.type === "open_url" && action.payload && /^\/[^/]/.test(action.payload.url || "")) {
          node = element("a", "button button-small", component.label);
          node.href = action.payload.url;
          return node;
        }
        return element("span", "", component.label);
      default:
        node = element("div");
        (component.children || []).forEach(function (child) { node.appendChild(widgetNode(child)); });
        return node;
    }
  }

  function renderItem(item, live) {
    var node;
    if (item.type === "user_message") {
      node = messageNode(item.id, "user");
      var text = (item.content || []).map(function (part) { return part.text || ""; }).join(" ");
      var holder = node.querySelector("[data-text]");
      holder.textContent = "";
      if ((item.attachments || []).length) {
        var images = element("ul", "studio-message-images");
        item.attachments.forEach(function (attachment) {
          var entry = element("li");
          var image = element("img");
          image.src = samePath(attachment.preview_url);
          image.alt = "Attached image: " + attachment.name;
          entry.appendChild(image);
          images.appendChild(entry);
        });
        holder.appendChild(images);
      }
      if (text) {
        holder.appendChild(element("p", "", text));
      }
    } else if (item.type === "assistant_message") {
      node = messageNode(item.id, "assistant");
      delete drafts[item.id];
      node.classList.remove("is-streaming");
      node.dataset.status = "complete";
      markdown(node.querySelector("[data-text]"), (item.content || []).map(function (p) { return p.text; }).join("\n\n"));
      var provider = providerOf(item);
      if (provider && !node.querySelector("[data-provider]")) {
        var badge = element("p", "studio-provider small muted", "Answered by " + provider.label +
          (provider.description ? " · " + provider.description : ""));
        badge.dataset.provider = provider.label;
        node.querySelector(".studio-bubble").appendChild(badge);
      }
    } else if (item.type === "widget") {
      node = messageNode(item.id, "assistant");
      node.classList.add("studio-message-widget");
      var bubble = node.querySelector(".studio-bubble");
      bubble.textContent = "";
      var card = element("div", "studio-widget");
      (item.widget.children || []).forEach(function (child) { card.appendChild(widgetNode(child)); });
      bubble.appendChild(card);
      if (live) {
        refreshAssets();
      }
    } else if (item.type === "client_tool_call") {
      node = messageNode(item.id, "assistant");
      node.classList.add("studio-message-tool");
      var theme = (item.arguments || {}).theme;
      node.querySelector("[data-text]").textContent = item.name === "switch_theme"
        ? "Switched the page to " + theme + " mode."
        : "Ran " + item.name + ".";
      if (item.status === "pending") {
        runClientTool(item);
      }
    }
    scrollDown();
  }

  // --- the client tool ------------------------------------------------------------------------------------

  function applyTheme(theme) {
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);  // remembered server-side with the call
    }
  }

  var answering = null;

  function runClientTool(item) {
    if (item.name !== "switch_theme") {
      return;
    }
    var theme = (item.arguments || {}).theme;
    applyTheme(theme);
    answering = { thread_id: threadId, result: { theme: theme, status: "applied" } };
  }

  function answerClientTool() {
    if (!answering) {
      return Promise.resolve();
    }
    var params = answering;
    answering = null;
    return stream("threads.add_client_tool_output", params);
  }

  function refreshAssets() {
    if (!assetsPanel || !chat.dataset.assetsUrl) {
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

  function showError(message) {
    var item = element("li", "studio-message studio-message-assistant is-failed");
    var bubble = element("div", "studio-bubble");
    var holder = element("div", "studio-error", message);
    holder.setAttribute("role", "alert");
    holder.dataset.error = "";
    bubble.appendChild(holder);
    item.appendChild(bubble);
    list.appendChild(item);
    scrollDown();
  }

  // --- sending ----------------------------------------------------------------------------------------------

  function send() {
    var value = textarea.value.trim();
    if ((!value && !attached.length) || chat.dataset.busy === "true") {
      return;
    }
    textarea.value = "";
    var ids = attached.map(function (a) { return a.id; });
    attached = [];
    showAttached();
    var done = threadId
      ? stream("threads.add_user_message", { thread_id: threadId, input: userInput(value, ids) })
      : stream("threads.create", { input: userInput(value, ids) });
    done.then(answerClientTool).then(refreshTitleIfNeeded);
  }

  function refreshTitleIfNeeded() {
    if (threadId && titleNode.textContent === "New conversation") {
      request("threads.get_by_id", { thread_id: threadId }).then(showTitle).catch(function () {});
    }
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

  // --- opening a conversation: its items (paginated), then any reply still being written -----------------------

  function loadItems(after) {
    var params = { thread_id: threadId, limit: 100, order: "asc" };
    if (after) {
      params.after = after;
    }
    return request("items.list", params).then(function (page) {
      page.data.forEach(function (item) {
        loaded.push(item.id);
        // A switch_theme still pending was already applied when it was made (the theme is remembered).
        renderItem(item.type === "client_tool_call" ? Object.assign({}, item, { status: "completed" }) : item, false);
      });
      return page.has_more ? loadItems(page.after) : null;
    });
  }

  setBusy(false);
  if (threadId) {
    setBusy(true);
    loadItems(null).then(function () {
      setBusy(false);
      if (chat.dataset.answering === "true") {
        return stream("threads.custom_action", {
          thread_id: threadId, item_id: null, action: { type: "studio.resume", payload: { have: loaded.slice(-500) } }
        }).then(answerClientTool);
      }
      return null;
    }).catch(function (error) {
      setBusy(false);
      setStatus(error.message);
    });
  }
})();
