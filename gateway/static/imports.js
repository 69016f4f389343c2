/* インポート機能's pages. The upload form names the file chosen. The job page polls the gateway's progress JSON
 * every second and moves the bar; when the job is over, it reloads once so that the report (counts, reasons,
 * problems, download) is drawn by the server. Without JavaScript, a reload shows the same. */
(function () {
  "use strict";

  // The upload form: the browser's own file button speaks the browser's language; ours says ファイルを選択 and
  // shows the name of the file chosen.
  var input = document.querySelector("[data-file-input]");
  var chosen = document.querySelector("[data-file-chosen]");
  if (input && chosen) {
    input.addEventListener("change", function () {
      chosen.textContent = input.files.length ? input.files[0].name : "選択されていません";
    });
  }

  var INTERVAL_MS = 1000;
  var panel = document.getElementById("import-job");
  if (!panel || panel.getAttribute("data-done") === "1") {
    return;
  }
  var url = panel.getAttribute("data-progress-url");

  function put(selector, text) {
    var node = panel.querySelector(selector);
    if (node) {
      node.textContent = text;
    }
  }

  function show(state) {
    var bar = panel.querySelector("[data-progress-bar]");
    if (bar) {
      bar.style.width = state.percent + "%";
      bar.parentNode.setAttribute("aria-valuenow", String(state.percent));
    }
    put("[data-progress-percent]", state.percent + "%");
    put("[data-progress-rows]", state.rows_done.toLocaleString("ja-JP"));
    put("[data-progress-rate]", state.rows_per_second ? state.rows_per_second.toLocaleString("ja-JP") : "―");
    put("[data-progress-left]", state.seconds_left === null ? "―" : state.seconds_left + "秒");
    put("[data-testid=status]", state.status_label);
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.done) {
          window.location.reload();
        } else {
          window.setTimeout(poll, INTERVAL_MS);
        }
      })
      .catch(function () {
        window.setTimeout(poll, INTERVAL_MS * 3);  // the gateway or a service away for a moment: try again
      });
  }

  window.setTimeout(poll, INTERVAL_MS);
}());
