(function () {
  var options = {renderer: 'svg', actions: false, formatLocale: __FORMAT_LOCALE__};
  var timeFormatLocale = __TIME_FORMAT_LOCALE__;
  if (timeFormatLocale) { options.timeFormatLocale = timeFormatLocale; }
  var nodes = Array.prototype.slice.call(document.querySelectorAll('div.vega[data-chart]'));
  var rendered = 0;
  Promise.all(nodes.map(function (div) {
    try {
      var spec = JSON.parse(document.getElementById('spec-' + div.getAttribute('data-chart')).textContent);
      return vegaEmbed(div, spec, options).then(function () { rendered += 1; }).catch(function (err) {
        window.__noteReportError('chart ' + div.getAttribute('data-chart') + ': ' + err);
      });
    } catch (err) {
      window.__noteReportError('chart ' + div.getAttribute('data-chart') + ': ' + err);
      return null;
    }
  })).then(function () {
    document.body.setAttribute('data-charts-expected', String(nodes.length));
    document.body.setAttribute('data-charts-rendered', String(rendered));
  });
})();
