/*
 * FinPulse page behaviour. All of it lives here: the Content-Security-Policy forbids inline
 * scripts and event-handler attributes, so templates only carry data (data-* attributes and
 * <script type="application/json"> blocks from json_script), never code.
 */
(function () {
  "use strict";

  // Django's CSRF cookie is HttpOnly, so htmx takes the token from <meta name="csrf-token">.
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // Portfolio charts: <canvas data-chart-source="<json id>" data-chart-index="<n>">.
  var PALETTE = ["#0b5cab", "#2e8540", "#b35c00", "#7b3fa0", "#b00020", "#00758f", "#5b6b7c"];

  function readJson(id) {
    var element = document.getElementById(id);
    if (!element) {
      return null;
    }
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function drawCharts(root) {
    if (typeof window.Chart === "undefined" || !root.querySelectorAll) {
      return;
    }
    var canvases = root.querySelectorAll("canvas[data-chart-source]:not([data-chart-key])");
    Array.prototype.forEach.call(canvases, function (canvas) {
      if (canvas.getAttribute("data-chart-drawn") === "true") {
        return;
      }
      var data = readJson(canvas.getAttribute("data-chart-source"));
      var series = data && data[Number(canvas.getAttribute("data-chart-index") || 0)];
      if (!series) {
        return;
      }
      canvas.setAttribute("data-chart-drawn", "true");
      // Values arrive as decimal strings; the chart only draws them, nothing is summed here.
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: series.labels,
          datasets: [
            {
              label: series.currency,
              data: series.values.map(Number),
              backgroundColor: series.labels.map(function (_, i) {
                return PALETTE[i % PALETTE.length];
              }),
            },
          ],
        },
        options: {
          // Axis and tooltip numbers in the page's language (1.234,56 in Italian).
          locale: document.documentElement.lang || undefined,
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true } },
        },
      });
    });
  }

  // Report charts: <canvas data-chart-source="<json id>" data-chart-key="<name>">, where the
  // named entry has labels, datasets [{label, values}] and links (one per bar: the customers
  // behind it). Stacked bars; selecting a bar opens its link (the table beside it has the same
  // links for keyboard and screen-reader users).
  function drawReportCharts(root) {
    if (typeof window.Chart === "undefined" || !root.querySelectorAll) {
      return;
    }
    var canvases = root.querySelectorAll("canvas[data-chart-source][data-chart-key]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      if (canvas.getAttribute("data-chart-drawn") === "true") {
        return;
      }
      var data = readJson(canvas.getAttribute("data-chart-source"));
      var chart = data && data[canvas.getAttribute("data-chart-key")];
      if (!chart || !chart.datasets) {
        return;
      }
      canvas.setAttribute("data-chart-drawn", "true");
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: chart.labels,
          datasets: chart.datasets.map(function (dataset, i) {
            return {
              label: dataset.label,
              data: dataset.values.map(Number),
              backgroundColor: PALETTE[i % PALETTE.length],
            };
          }),
        },
        options: {
          // Axis and tooltip numbers in the page's language (1.234,56 in Italian).
          locale: document.documentElement.lang || undefined,
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
          onClick: function (event, elements) {
            if (elements.length && chart.links && chart.links[elements[0].index]) {
              window.location.assign(chart.links[elements[0].index]);
            }
          },
          onHover: function (event, elements) {
            canvas.style.cursor = elements.length ? "pointer" : "default";
          },
        },
      });
    });
  }

  // The menu button (narrow screens, see .topbar[data-menu] in finpulse.css): shows and hides the
  // navigation links. Without this script the button stays hidden and the links stay open.
  function setUpMenu() {
    var button = document.querySelector(".menu-button");
    var topbar = button && button.closest(".topbar");
    if (!topbar) {
      return;
    }
    button.hidden = false;
    topbar.setAttribute("data-menu", "closed");
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      topbar.setAttribute("data-menu", open ? "open" : "closed");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        button.setAttribute("aria-expanded", "false");
        topbar.setAttribute("data-menu", "closed");
        button.focus();
      }
    });
  }

  // The pipeline board (templates/opportunities/_board.html): a card that may move carries
  // data-move-url; every column carries data-stage (its stage id) and data-closing ("won", "lost"
  // or ""). Dropping a card on an open stage posts the card's own move form's request through
  // htmx (the same endpoint and service as the "Move" button, CSRF header included, the board
  // swapped in place). A won or lost column needs a reason, so dropping there opens the card's
  // "Win or lose" form with the outcome ticked and the reason field focused. The select and
  // buttons stay the keyboard way; dragging only adds a pointer way.
  var dragged = null;

  function boardColumn(target) {
    return target && target.closest ? target.closest("#board [data-stage]") : null;
  }

  function clearDropMarks() {
    Array.prototype.forEach.call(document.querySelectorAll("#board .is-drop-target"), function (column) {
      column.classList.remove("is-drop-target");
    });
  }

  function setUpBoardDrag() {
    document.addEventListener("dragstart", function (event) {
      var card = event.target.closest ? event.target.closest("#board [data-move-url]") : null;
      if (!card) {
        return;
      }
      dragged = card;
      card.classList.add("is-dragged");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.id);
    });
    document.addEventListener("dragend", function () {
      if (dragged) {
        dragged.classList.remove("is-dragged");
      }
      dragged = null;
      clearDropMarks();
    });
    document.addEventListener("dragover", function (event) {
      var column = dragged && boardColumn(event.target);
      if (!column) {
        return;
      }
      event.preventDefault(); // allow the drop
      event.dataTransfer.dropEffect = "move";
      if (!column.classList.contains("is-drop-target")) {
        clearDropMarks();
        column.classList.add("is-drop-target");
      }
    });
    document.addEventListener("drop", function (event) {
      var column = dragged && boardColumn(event.target);
      if (!column) {
        return;
      }
      event.preventDefault();
      var card = dragged;
      var closing = column.getAttribute("data-closing");
      clearDropMarks();
      if (closing) {
        var details = card.querySelector("details");
        var outcome = card.querySelector('input[name="outcome"][value="' + closing + '"]');
        if (details && outcome) {
          details.open = true;
          outcome.checked = true;
          card.querySelector('input[name="reason"]').focus();
        }
        return;
      }
      var stage = column.getAttribute("data-stage");
      var select = card.querySelector('select[name="stage"]');
      if (!stage || (select && select.value === stage) || typeof window.htmx === "undefined") {
        return;
      }
      window.htmx.ajax("POST", card.getAttribute("data-move-url"), {
        source: card,
        target: "#board",
        swap: "outerHTML",
        values: { stage: stage },
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu();
    setUpBoardDrag();
    drawCharts(document);
    drawReportCharts(document);
  });
  document.addEventListener("htmx:load", function (event) {
    drawCharts(event.target);
    drawReportCharts(event.target);
  });
})();
