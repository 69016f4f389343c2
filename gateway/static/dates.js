/* Date fields of the admin screens (input[data-date], made by the date_input macro): Japanese dates, yyyy/mm/dd
 * (yyyy/mm/dd hh:mm for data-date="moment"), whatever the browser's language, typed or picked from a calendar
 * (flatpickr and its ja locale, served from static/vendor/).
 *
 * - A date is typed as the server reads it: 2026/12/06, 2026-12-06, 2026/1/6, 20261206, full-width digits.
 * - The calendar opens when the field is clicked or entered, and goes away once the operator types.
 * - Text that is no date stays as typed: the server refuses it beside the field (flatpickr alone would empty it, and
 *   the search would run without the condition).
 * - data-date-partner names the other end of a range: while this end is empty, its calendar opens on that month.
 */
(function () {
  "use strict";

  if (!window.flatpickr) {
    return;  // the fields stay text fields, which the server reads all the same
  }

  var HYPHENS = /[‐‑‒–—―−ーｰ－]/g;
  var DAY = /^(\d{4})[\/-](\d{1,2})[\/-](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::\d{2})?)?$|^(\d{4})(\d{2})(\d{2})$/;

  function parse(text) {
    var match = DAY.exec((text || "").normalize("NFKC").replace(HYPHENS, "-").trim());
    if (!match) {
      return undefined;
    }
    var year = +(match[1] || match[6]), month = +(match[2] || match[7]), day = +(match[3] || match[8]);
    var hour = +(match[4] || 0), minute = +(match[5] || 0);
    var date = new Date(year, month - 1, day, hour, minute);
    // 2026/02/30 or 25:00 is no moment: refused, not moved on to the next month or day
    if (date.getFullYear() !== year || date.getMonth() !== month - 1 || date.getDate() !== day ||
        date.getHours() !== hour || date.getMinutes() !== minute) {
      return undefined;
    }
    return date;
  }

  function setUp(input) {
    var moment = input.dataset.date === "moment";
    var typed = input.value;

    function keepTyped(dates) {
      if (!dates.length && typed && !input.value) {
        input.value = typed;
      }
    }

    function openAtPartner(dates, _text, instance) {
      var partner = input.dataset.datePartner && input.form && input.form.elements[input.dataset.datePartner];
      var other = partner && partner._flatpickr && partner._flatpickr.selectedDates[0];
      if (!dates.length && other) {
        instance.jumpToDate(other);
      }
    }

    var picker = window.flatpickr(input, {
      locale: "ja",
      dateFormat: moment ? "Y/m/d H:i" : "Y/m/d",
      ariaDateFormat: "Y年n月j日",
      enableTime: moment,
      time_24hr: true,
      allowInput: true,
      animate: false,  // the calendar is there at once, as the rest of the admin
      disableMobile: true,  // a phone's own picker would show its own format again
      parseDate: parse,
      onOpen: openAtPartner,
      onChange: keepTyped,
      onValueUpdate: keepTyped,
      onClose: keepTyped
    });
    input.addEventListener("input", function () {
      typed = input.value;
      picker.close();  // typing, the operator needs no calendar, and it would cover the fields below
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[data-date]"), setUp);
})();
