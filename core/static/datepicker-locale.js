/* The admin's date pickers (flask-admin's bootstrap-daterangepicker on moment.js) in the
   page's language. moment.min.js ships without locales, so the Chinese one is defined
   here; the button labels come from the page (translated by Babel) through data-*
   attributes of this script's tag. Loaded after moment.js and before flask-admin's
   form.js builds the pickers. */
(function () {
  var script = document.currentScript;
  var lang = ((script && script.getAttribute('data-lang')) ||
              document.documentElement.getAttribute('lang') || 'en').toLowerCase();
  if (window.moment && lang.indexOf('zh') === 0) {
    window.moment.defineLocale('zh-cn', {
      months: '一月_二月_三月_四月_五月_六月_七月_八月_九月_十月_十一月_十二月'.split('_'),
      monthsShort: '1月_2月_3月_4月_5月_6月_7月_8月_9月_10月_11月_12月'.split('_'),
      weekdays: '星期日_星期一_星期二_星期三_星期四_星期五_星期六'.split('_'),
      weekdaysShort: '周日_周一_周二_周三_周四_周五_周六'.split('_'),
      weekdaysMin: '日_一_二_三_四_五_六'.split('_'),
      week: { dow: 1, doy: 4 }
    });
    window.moment.locale('zh-cn');
  }
  var labels = {};
  ['apply', 'cancel', 'from', 'to', 'week', 'custom'].forEach(function (key) {
    var value = script && script.getAttribute('data-' + key);
    if (value) { labels[key] = value; }
  });
  function wrap() {
    var $ = window.jQuery;
    if (!$ || !$.fn.daterangepicker || $.fn.daterangepicker.townshipLocale) { return; }
    var original = $.fn.daterangepicker;
    $.fn.daterangepicker = function (options, cb) {
      options = $.extend({}, options || {});
      options.locale = $.extend({
        applyLabel: labels.apply,
        cancelLabel: labels.cancel,
        fromLabel: labels.from,
        toLabel: labels.to,
        weekLabel: labels.week,
        customRangeLabel: labels.custom
      }, options.locale || {});
      return original.call(this, options, cb);
    };
    $.fn.daterangepicker.townshipLocale = true;
  }
  // form.js announces itself before it builds the widgets (on DOM ready)
  if (window.jQuery) { window.jQuery(document).on('adminFormReady', wrap); }
  document.addEventListener('DOMContentLoaded', wrap);
})();
