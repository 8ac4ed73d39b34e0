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

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu();
    drawCharts(document);
    drawReportCharts(document);
  });
  document.addEventListener("htmx:load", function (event) {
    drawCharts(event.target);
    drawReportCharts(event.target);
  });
})();
