// Moderation queue: tell the moderator when new reports arrive, without reloading under them.
// The page works without this script; the queue is always complete after a refresh.
(function () {
  "use strict";
  var region = document.getElementById("moderation-live");
  if (!region || !("WebSocket" in window)) { return; }
  var count = 0;
  var retry = 1000;

  function show() {
    region.textContent = "";
    var p = document.createElement("p");
    p.className = "govuk-body govuk-!-font-weight-bold";
    p.textContent = count === 1 ? "1 new report has arrived. " : count + " new reports have arrived. ";
    var a = document.createElement("a");
    a.className = "govuk-link";
    a.href = window.location.pathname;
    a.textContent = "Refresh the queue";
    p.appendChild(a);
    region.appendChild(p);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + region.getAttribute("data-ws-path"));
    socket.addEventListener("open", function () { retry = 1000; });
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "flag.created") { count += 1; show(); }
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4403) { return; }
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }
  connect();
})();
