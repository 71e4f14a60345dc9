/* Minyi: the measures page's chart (ECharts, vendored in web/vendor). The table below the
   chart holds the same figures, so the page says everything without this script. */
(function () {
  "use strict";

  function draw() {
    var box = document.getElementById("kpi-chart");
    var source = document.getElementById("kpi-chart-data");
    if (!box || !source || !window.echarts) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({
      tooltip: {
        trigger: "axis",
        valueFormatter: function (value) {
          return value === null || value === undefined || value === "-" ? data.empty : value + "%";
        }
      },
      legend: { top: 0 },
      grid: { left: 48, right: 24, top: 40, bottom: 32 },
      xAxis: { type: "category", data: data.months, boundaryGap: true },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: data.series.map(function (item) {
        return {
          name: item.name,
          type: "line",
          smooth: false,
          connectNulls: false,
          symbolSize: 8,
          showSymbol: true,
          clip: false,
          data: item.data.map(function (v) { return v === null ? "-" : v; })
        };
      })
    });
    box.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
