// The web chat: send what is typed or tapped, and fetch the bot's messages every second.
// The conversation shown is kept in this tab's sessionStorage, so a reload shows it again;
// it is wiped when the tab closes, and when the server says the chat was forgotten.
"use strict";
(function () {
  const list = document.getElementById("messages");
  const form = document.getElementById("send");
  const input = document.getElementById("text");
  const KEY = "meedoen-chat";
  const KEEP = 60;
  let busy = false;
  let history = [];
  try { history = JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch (e) { history = []; }

  function remember(entry) {
    history.push(entry);
    history = history.slice(-KEEP);
    try { sessionStorage.setItem(KEY, JSON.stringify(history)); } catch (e) { /* full */ }
  }

  function shareLocation(label) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.addEventListener("click", function () {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition(function (position) {
        say(label, "me");
        post({ location: { latitude: position.coords.latitude,
                           longitude: position.coords.longitude } });
      });
    });
    return button;
  }

  function say(text, who, options, location) {
    remember({ text: text, who: who, options: options || [], location: location || null });
    show(text, who, options, location);
  }

  function show(text, who, options, location) {
    const item = document.createElement("li");
    item.className = who;
    item.textContent = text;
    if (location) {
      const row = document.createElement("div");
      row.className = "options";
      row.appendChild(shareLocation(location));
      item.appendChild(row);
    }
    if (options && options.length) {
      const row = document.createElement("div");
      row.className = "options";
      row.setAttribute("role", "group");
      for (const option of options) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = option.label;
        button.addEventListener("click", function () {
          say(option.label, "me");
          post({ choice: option.key });
        });
        row.appendChild(button);
      }
      item.appendChild(row);
    }
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  async function post(body) {
    await fetch("send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    fetchMessages();
  }

  async function fetchMessages() {
    if (busy) return;
    busy = true;
    try {
      const response = await fetch("messages", { credentials: "same-origin" });
      const data = await response.json();
      if (data.forgotten) {  // "vergeet mij": this tab forgets the conversation too
        history = [];
        sessionStorage.removeItem(KEY);
      }
      for (const message of data.messages) {
        say(message.text, "bot", message.options, message.location);
      }
    } catch (error) {
      // the server is restarting: the next round tries again
    } finally {
      busy = false;
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    say(text, "me");
    input.value = "";
    post({ text: text });
  });

  for (const entry of history) show(entry.text, entry.who, entry.options, entry.location);
  setInterval(fetchMessages, 1000);
  fetchMessages();
})();
