// The web chat: send what is typed or tapped, and fetch the bot's messages every second.
"use strict";
(function () {
  const list = document.getElementById("messages");
  const form = document.getElementById("send");
  const input = document.getElementById("text");
  let busy = false;

  function shareLocation(label) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.addEventListener("click", function () {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition(function (position) {
        show(label, "me");
        post({ location: { latitude: position.coords.latitude,
                           longitude: position.coords.longitude } });
      });
    });
    return button;
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
          show(option.label, "me");
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
      for (const message of data.messages) {
        show(message.text, "bot", message.options, message.location);
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
    show(text, "me");
    input.value = "";
    post({ text: text });
  });

  setInterval(fetchMessages, 1000);
  fetchMessages();
})();
