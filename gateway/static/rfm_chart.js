// RFM集計's heat map (ECharts, served from static/vendor/): the 6×6 grid the table below shows, each cell coloured by
// its rank (R×F) or by its number of customers (R×M, F×M), and a click on a cell opening its customers in 顧客検索.
(function () {
  "use strict";
  var source = document.getElementById("rfm-data");
  var box = document.getElementById("rfm-chart");
  if (!source || !box || !window.echarts) return;
  var grid = JSON.parse(source.textContent);
  var hex = {}, names = {};
  grid.ranks.forEach(function (rank) { hex[rank.rank] = rank.hex; names[rank.rank] = rank.name; });
  var most = 1, data = [];
  grid.cells.forEach(function (row, r) {
    row.forEach(function (cell, c) {
      most = Math.max(most, cell.customers);
      // an empty cell keeps its rank's colour, faded, so the ranks' areas still read as the RFM設定 draws them
      data.push({value: [c, r, cell.customers], cell: cell,
                 itemStyle: grid.byRank ? {color: hex[cell.rank], opacity: cell.customers ? 1 : 0.45} : undefined});
    });
  });
  var share = function (cell) { return Number(cell.share).toFixed(1); };
  var yen = function (n) { return n.toLocaleString("ja-JP") + "円"; };
  var chart = echarts.init(box, null, {renderer: "canvas"});
  var option = {
    animation: false,
    textStyle: {fontFamily: "sans-serif"},
    grid: {left: 110, right: 24, top: 40, bottom: 8},
    tooltip: {
      formatter: function (p) {
        var cell = p.data.cell;
        return grid.rowsName + " " + grid.rows[p.data.value[1]] + "<br>" + grid.columnsName + " " +
          grid.columns[p.data.value[0]] + "<br>" + cell.customers.toLocaleString("ja-JP") + "人（" + share(cell) +
          "%）／ " + yen(cell.sales) + (cell.rank ? "<br>" + names[cell.rank] : "");
      }
    },
    xAxis: {type: "category", data: grid.columns, position: "top", name: grid.columnsName, nameLocation: "middle",
            nameGap: 22, splitArea: {show: false}, axisTick: {show: false}},
    yAxis: {type: "category", data: grid.rows, inverse: true, name: grid.rowsName, nameLocation: "middle",
            nameGap: 96, axisTick: {show: false}},
    series: [{
      type: "heatmap", data: data, cursor: "pointer",
      itemStyle: {borderColor: "#fff", borderWidth: 2},
      label: {show: true, color: "#222", fontSize: 13, lineHeight: 17,
              formatter: function (p) {
                return p.data.cell.customers.toLocaleString("ja-JP") + "人\n" + share(p.data.cell) + "%";
              }},
      emphasis: {itemStyle: {borderColor: "#1f6fb2", borderWidth: 3}}
    }]
  };
  if (!grid.byRank) {
    option.visualMap = {min: 0, max: most, show: false, inRange: {color: ["#eef4fa", "#7fb0dc", "#1f6fb2"]}};
    data.forEach(function (item) {  // white on the darkest blues, to stay readable
      if (item.cell.customers > most * 0.6) item.label = {color: "#fff"};
    });
  }
  chart.setOption(option);
  chart.on("click", function (p) {
    if (p.data && p.data.cell) window.location.href = p.data.cell.href;
  });
  window.addEventListener("resize", function () { chart.resize(); });
  window.rfmChart = chart;  // for the page's browser tests: where a cell is drawn
})();
