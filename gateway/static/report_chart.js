// A report's chart (ECharts, served from static/vendor/), drawn from the chart the search service computed beside
// the tables below it: bars and lines over the x axis (a series with axis 1 reads a second axis on the right), or a
// heat map of cells over x and y (cohorts).
(function () {
  "use strict";
  var source = document.getElementById("report-data");
  var box = document.getElementById("report-chart");
  if (!source || !box || !window.echarts) return;
  var spec = JSON.parse(source.textContent);
  var number = function (n) { return n === null || n === undefined ? "—" : Number(n).toLocaleString("ja-JP"); };
  if (spec.type === "heatmap") {  // a row per cohort: tall enough that every row's label shows
    box.style.height = Math.max(300, 18 * spec.y.length + 90) + "px";
  }
  var chart = echarts.init(box, null, {renderer: "canvas"});
  var option;
  if (spec.type === "heatmap") {
    var most = 0;
    spec.cells.forEach(function (cell) { most = Math.max(most, cell[2]); });
    option = {
      animation: false,
      tooltip: {formatter: function (p) {
        return spec.y[p.data[1]] + " ／ " + spec.x[p.data[0]] + "<br>" + number(p.data[2]) + (spec.y_names[0] ? " " + spec.y_names[0] : "");
      }},
      grid: {left: 90, right: 90, top: 16, bottom: 56},
      xAxis: {type: "category", data: spec.x, name: spec.x_name, nameLocation: "middle", nameGap: 30,
              splitArea: {show: true}, axisLabel: {hideOverlap: true}},
      yAxis: {type: "category", data: spec.y, inverse: true, splitArea: {show: true}, axisLabel: {interval: 0}},
      visualMap: {min: 0, max: most || 1, calculable: false, orient: "vertical", right: 8, top: "middle",
                  itemHeight: 120, text: ["多", "少"], inRange: {color: ["#eef4fa", "#7fb0dc", "#1f6fb2"]}},
      series: [{type: "heatmap", data: spec.cells, label: {show: spec.x.length * spec.y.length <= 300,
                 formatter: function (p) { return number(p.data[2]); }, fontSize: 11}}]
    };
  } else {
    var twoAxes = spec.series.some(function (s) { return s.axis === 1; });
    var yAxis = [{type: "value", name: spec.y_names[0] || "", axisLabel: {formatter: number}}];
    if (twoAxes) yAxis.push({type: "value", name: spec.y_names[1] || "", axisLabel: {formatter: number}, splitLine: {show: false}});
    option = {
      animation: false,
      tooltip: {trigger: "axis", valueFormatter: number},
      legend: {top: 0},
      grid: {left: 80, right: twoAxes ? 80 : 24, top: 48, bottom: 64},
      xAxis: {type: "category", data: spec.x, name: spec.x_name, nameLocation: "middle", nameGap: 44,
              axisLabel: {interval: "auto", rotate: spec.x.length > 12 ? 30 : 0, hideOverlap: true}},
      yAxis: yAxis,
      series: spec.series.map(function (s) {
        return {name: s.name, type: s.type === "line" ? "line" : "bar", data: s.data, yAxisIndex: s.axis || 0,
                connectNulls: false, barMaxWidth: 48};
      })
    };
  }
  chart.setOption(option);
  window.addEventListener("resize", function () { chart.resize(); });
  window.reportChart = chart;  // for the page's browser tests: what was drawn
})();
