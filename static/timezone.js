// Preselects the visitor's own time zone in the signup form's time-zone menu
// while nothing is chosen there. A convenience only: the form works without it.
(function () {
  "use strict";
  // Old names a browser may report (Chromium says Asia/Calcutta, Europe/Kiev)
  // and the zone the menu lists each under; the server fills this in.
  var links = {/* links */};
  var menu = document.getElementById("timezone");
  if (!menu || menu.value !== "" || typeof Intl !== "object") {
    return;
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  zone = links[zone] || zone;
  for (var i = 0; i < menu.options.length; i += 1) {
    if (menu.options[i].value === zone) {
      menu.selectedIndex = i;
      return;
    }
  }
})();
