// Live sessions and tallies: keeps the page current over a websocket. Progressive enhancement only:
// without this file (or without websockets) the page works with a refresh, and votes are form posts.
// Protocol: docs/websocket-protocol.md.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-root]");
  if (!root || !("WebSocket" in window) || !window.JSON) { return; }

  var ANNOUNCE_EVERY_MS = 5000;
  var question = root.getAttribute("data-live-question") || "";
  var accepting = !!root.querySelector("[data-live-vote-form]") || root.querySelector("[data-live-state] .govuk-tag--green") !== null;
  var socket = null, epoch = null, seq = 0, retries = 0, nextId = 1;
  var lastAnnounced = 0, announceTimer = null, lastAnnouncement = "";
  var mode = root.getAttribute("data-live-mode");
  var leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });
  document.addEventListener("submit", function () { leaving = true; }, true);

  // The page shows another question or another state: fetch it. The host's page changes only by the
  // host's own forms, and a page already on its way elsewhere is left alone.
  function reload() {
    if (leaving || mode === "host") { return; }
    leaving = true;
    window.location.reload();
  }

  function socketUrl() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + root.getAttribute("data-live-socket");
  }

  function send(type, payload) {
    if (!socket || socket.readyState !== 1) { return null; }
    var id = "m" + (nextId++);
    socket.send(JSON.stringify({ type: type, id: id, payload: payload || {} }));
    return id;
  }

  function each(selector, fn) {
    var nodes = root.querySelectorAll(selector);
    for (var i = 0; i < nodes.length; i++) { fn(nodes[i]); }
  }

  function attrEq(name, value) { return "[" + name + "=\"" + String(value).replace(/["\\]/g, "\\$&") + "\"]"; }

  function applyTally(payload) {
    var result = payload.tally && payload.tally.result;
    if (!result || !result.rows) { return; }
    var ballots = result.ballots || 0;
    result.rows.forEach(function (row) {
      var percent = ballots ? (100 * row.count / ballots) : 0;
      var rounded = Math.round(percent);
      each(attrEq("data-live-bar", row.key), function (el) { el.setAttribute("width", percent.toFixed(2) + "%"); });
      each(attrEq("data-live-value", row.key), function (el) { el.textContent = row.count + " (" + rounded + "%)"; });
      each(attrEq("data-live-count", row.key), function (el) { el.textContent = String(row.count); });
      each(attrEq("data-live-percent", row.key), function (el) { el.textContent = rounded + "%"; });
    });
    each("[data-live-total]", function (el) { el.textContent = String(ballots); });
    scheduleAnnouncement();
  }

  // Screen readers hear the figures at most once every few seconds, however fast votes arrive.
  function scheduleAnnouncement() {
    if (announceTimer) { return; }
    var wait = Math.max(0, lastAnnounced + ANNOUNCE_EVERY_MS - Date.now());
    announceTimer = window.setTimeout(announce, wait);
  }

  function announce() {
    announceTimer = null;
    var region = root.querySelector("[data-live-announce]");
    if (!region) { return; }
    var parts = [];
    each("[data-live-label]", function (label) {
      var key = label.getAttribute("data-live-label");
      var count = root.querySelector(attrEq("data-live-count", key));
      parts.push(label.textContent + " " + (count ? count.textContent : "0"));
    });
    var total = root.querySelector("[data-live-total]");
    var text = parts.join(", ") + (total ? ". " + total.textContent + " votes." : "");
    if (text !== lastAnnouncement) {
      region.textContent = text;
      lastAnnouncement = text;
      lastAnnounced = Date.now();
    }
  }

  function onTally(message) {
    var p = message.payload || {};
    if (String(p.question) !== question) { return; }
    if (p.open !== undefined && p.open !== accepting) {
      reload();  // voting opened or closed: the page shows a different form
      return;
    }
    if (p.hidden || !p.tally) { return; }
    if (message.type === "tally" && epoch === p.epoch) {
      if (p.seq <= seq) { return; }  // old news from another worker
      if (p.seq > seq + 1) { send("snapshot.request"); }  // missed one: ask the database
    }
    epoch = p.epoch; seq = p.seq;
    applyTally(p);
  }

  function onSession(message) {
    var p = message.payload || {};
    var now = p.question === null || p.question === undefined ? "" : String(p.question);
    if (now !== question || p.accepting !== accepting) {
      reload();
    } else if (p.status === "ended" && !root.querySelector(".govuk-inset-text")) {
      reload();
    }
  }

  function setStatus(text) {
    var status = root.querySelector("[data-live-vote-status]");
    if (status) { status.textContent = text; }
  }

  function connect() {
    socket = new WebSocket(socketUrl());
    socket.onopen = function () { retries = 0; };
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "snapshot" || message.type === "tally") { onTally(message); }
      else if (message.type === "session") { onSession(message); }
      else if (message.type === "ack") { setStatus(root.getAttribute("data-live-thanks") || "Your vote has been counted. You can change it until the question closes."); }
      else if (message.type === "error") { setStatus(message.message || "Your vote could not be counted."); }
    };
    socket.onclose = function (event) {
      socket = null;
      if (event.code === 4404) { return; }
      // Back off, with jitter, so thousands of phones do not reconnect at the same instant.
      var delay = Math.min(10000, 500 * Math.pow(2, retries++)) * (0.5 + Math.random());
      window.setTimeout(connect, delay);
    };
  }

  var form = root.querySelector("[data-live-vote-form]");
  if (form) {
    form.addEventListener("submit", function (event) {
      var checked = form.querySelector("input[name=choice]:checked");
      if (!checked || !socket || socket.readyState !== 1) { return; }  // the form post handles it
      event.preventDefault();
      leaving = false;  // the vote goes over the socket; this page stays
      setStatus("Sending your vote…");
      send("vote", { question: Number(question), data: { choice: checked.value } });
    });
  }

  connect();
})();
