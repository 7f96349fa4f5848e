window.__reportErrors = [];
(function () {
  function show() {
    var el = document.getElementById('report-errors');
    if (el && window.__reportErrors.length) {
      el.textContent = 'Some parts of this report could not be drawn:\n' + window.__reportErrors.join('\n');
      el.hidden = false;
    }
  }
  window.__noteReportError = function (message) { window.__reportErrors.push(String(message)); show(); };
  window.addEventListener('error', function (e) { window.__noteReportError('Uncaught ' + (e.message || e)); });
  window.addEventListener('unhandledrejection', function (e) {
    window.__noteReportError('Unhandled rejection ' + ((e.reason && e.reason.message) || e.reason));
  });
  var original = console.error;
  console.error = function () {
    window.__noteReportError(Array.prototype.map.call(arguments, String).join(' '));
    return original.apply(console, arguments);
  };
  document.addEventListener('DOMContentLoaded', show);
})();
