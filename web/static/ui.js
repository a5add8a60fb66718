// Oyster catalog: progressive enhancement only. Every page works without
// this script: search is a GET form, facets and pages are links, and the
// package filter is a form the server answers. The script adds results as
// you type, copy buttons, a live package filter and "/" to focus search.
(function () {
  'use strict';

  var DEBOUNCE_MS = 200;

  // liveSearch swaps the results region for /search/results as the query
  // changes, and keeps the URL in step so that results can be linked.
  function liveSearch(input, results) {
    var form = input.form;
    var sort = form.querySelector('select[name=sort]');
    var homeLists = document.getElementById('home-lists');
    var live = document.getElementById('live');
    var timer = 0;
    var controller = null;
    var lastQuery = null;

    function showHome() {
      results.hidden = true;
      results.innerHTML = '';
      homeLists.hidden = false;
      history.replaceState(null, '', '/');
    }

    function run() {
      var params = new URLSearchParams();
      params.set('q', input.value);
      if (sort && sort.value && sort.value !== 'relevance') params.set('sort', sort.value);
      var key = params.toString();
      if (key === lastQuery) return;
      lastQuery = key;
      if (controller) controller.abort();
      if (homeLists && input.value.trim() === '') {
        showHome();
        return;
      }
      controller = new AbortController();
      results.setAttribute('aria-busy', 'true');
      fetch('/search/results?' + key, { signal: controller.signal, headers: { Accept: 'text/html' } })
        .then(function (resp) { return resp.text(); })
        .then(function (html) {
          results.innerHTML = html;
          results.hidden = false;
          results.removeAttribute('aria-busy');
          if (homeLists) homeLists.hidden = true;
          history.replaceState(null, '', '/search?' + key);
          document.title = (input.value.trim() || 'All images') + ' · Oyster catalog';
          var total = results.querySelector('.total');
          if (live && total) live.textContent = total.textContent;
        })
        .catch(function (err) {
          if (err.name !== 'AbortError') {
            results.removeAttribute('aria-busy');
            lastQuery = null; // the form still submits; let the next keystroke retry
          }
        });
    }

    lastQuery = new URLSearchParams(location.search).toString() || null;
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(run, DEBOUNCE_MS);
    });
    if (sort) sort.addEventListener('change', run);
  }

  // copyText puts text on the clipboard; outside a secure context (plain
  // HTTP on another host) the Clipboard API is missing, so it falls back
  // to selecting the command and the legacy copy command.
  function copyText(text, code) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var range = document.createRange();
    range.selectNodeContents(code);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    return document.execCommand('copy') ? Promise.resolve() : Promise.reject(new Error('copy refused'));
  }

  function enableCopy(button) {
    var code = button.parentElement.querySelector('code');
    button.hidden = false;
    button.setAttribute('aria-label', 'Copy: ' + code.textContent);
    button.addEventListener('click', function () {
      copyText(code.textContent, code).then(function () {
        button.textContent = 'Copied';
      }, function () {
        button.textContent = 'Select and copy';
      });
      setTimeout(function () { button.textContent = 'Copy'; }, 1800);
    });
  }

  function plural(n, noun) {
    return n.toLocaleString('en-US') + ' ' + noun + (n === 1 ? '' : 's');
  }

  // packageFilter hides the package rows whose name does not contain what
  // is typed, the same rule the server applies to ?pkg=.
  function packageFilter(input) {
    var rows = Array.prototype.slice.call(document.querySelectorAll('#pkg-table tbody tr'));
    var names = rows.map(function (row) { return row.cells[0].textContent.toLowerCase(); });
    var count = document.getElementById('pkg-count');
    var timer = 0;

    function apply() {
      var typed = input.value.trim();
      var want = typed.toLowerCase();
      var shown = 0;
      rows.forEach(function (row, i) {
        row.hidden = names[i].indexOf(want) < 0;
        if (!row.hidden) shown++;
      });
      count.textContent = typed ? shown.toLocaleString('en-US') + ' of ' + plural(rows.length, 'package') + ' match “' + typed + '”'
        : plural(rows.length, 'package');
      var url = new URL(location.href);
      if (typed) url.searchParams.set('pkg', typed); else url.searchParams.delete('pkg');
      history.replaceState(null, '', url);
    }

    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(apply, 60);
    });
  }

  // "/" focuses the search box, as on most code and package sites.
  function slashFocus(input) {
    document.addEventListener('keydown', function (e) {
      var t = e.target;
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      if (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
      e.preventDefault();
      input.focus();
      input.select();
    });
  }

  var q = document.getElementById('q');
  var results = document.getElementById('results');
  if (q) slashFocus(q);
  if (q && results) liveSearch(q, results);
  document.querySelectorAll('button[data-copy]').forEach(enableCopy);
  var pkg = document.getElementById('pkg');
  if (pkg) packageFilter(pkg);
})();
