// The Wagtail admin without inline scripts. Wagtail starts its inline panels, date inputs and choosers
// from <script> elements in the page, which the admin's Content-Security-Policy (script-src 'self')
// refuses. Townhall's copies of those templates (cms/templates/wagtailadmin/) and its chooser widgets
// (cms/admin_scripts.py) leave an inert element instead, naming what to start and with which
// arguments; this file starts each one once, in document order, including those in forms added
// later (a new phase, a new option).
(function () {
  "use strict";
  // Only these, so a stray element cannot call anything else on the page.
  var CALLS = ["initDateTimeChooser", "initDateChooser", "initTimeChooser", "createTaskChooser"];
  var CONSTRUCTS = [
    "InlinePanel",
    "MultipleChooserPanel",
    "Chooser",
    "PageChooser",
    "SnippetChooser",
    "ImageChooser",
    "DocumentChooser",
  ];
  var SELECTOR = "[data-th-admin-call], [data-th-admin-construct]";

  function start(element) {
    if (element.dataset.thAdminStarted) return;
    element.dataset.thAdminStarted = "true";
    var args = JSON.parse(element.dataset.thAdminArgs || "[]");
    var call = element.dataset.thAdminCall;
    var construct = element.dataset.thAdminConstruct;
    if (call && CALLS.indexOf(call) !== -1 && typeof window[call] === "function") {
      window[call].apply(window, args);
    } else if (construct && CONSTRUCTS.indexOf(construct) !== -1 && typeof window[construct] === "function") {
      new window[construct](...args);
    }
  }

  function startWithin(root) {
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    if (root.matches(SELECTOR)) start(root);
    root.querySelectorAll(SELECTOR).forEach(start);
  }

  function run() {
    startWithin(document.documentElement);
    new MutationObserver(function (mutations) {
      mutations.forEach(function (mutation) {
        mutation.addedNodes.forEach(startWithin);
      });
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
